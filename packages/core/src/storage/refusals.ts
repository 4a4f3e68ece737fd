/**
 * The refusals every driver gives, in one place: the same `rc`, message and details whichever database
 * the horde runs on. A driver throws `refuse.x(...)`; the conformance suite checks the `rc`s.
 */
import { HordeError } from '../errors.js';
import type { RequestKind } from './types.js';

export const refuse = {
  unknownAccount: (id: number) =>
    new HordeError('UserNotFound', 'No account has this id.', { details: { id } }),
  unknownWorker: (id: string) =>
    new HordeError('WorkerNotFound', 'No worker has this id.', { details: { id } }),
  accountIdTaken: (id: number) =>
    new HordeError('BadRequest', 'An account with this id already exists.', { details: { id } }),
  apiKeyTaken: () => new HordeError('BadRequest', 'This API key is already in use.'),
  identityTaken: () => new HordeError('BadRequest', 'This identity is already bound to an account.'),
  requestIdTaken: (id: string) =>
    new HordeError('BadRequest', 'A request with this id already exists.', { details: { id } }),

  tooManyPrompts: (active: number, requested: number, limit: number) =>
    new HordeError(
      'TooManyPrompts',
      `You already have ${active} jobs waiting or in progress, and at most ${limit} are allowed at once. Wait for some to finish and try again.`,
      { details: { active, requested, limit } },
    ),
  /** `spendable`: balance − reserved − floor, in centikudos. */
  kudosUpfront: (required: number, spendable: number) =>
    new HordeError(
      'KudosUpfront',
      'This request needs kudos up front, and the account does not have enough.',
      {
        details: { required: required / 100, available: Math.max(0, spendable) / 100 },
      },
    ),

  transferAmount: () =>
    new HordeError('InvalidKudosTransferAmount', 'The amount to transfer must be a positive number.'),
  transferToSelf: () => new HordeError('KudosTransferToSelf', 'You cannot transfer kudos to yourself.'),
  idempotencyConflict: (idempotencyKey: string) =>
    new HordeError(
      'IdempotencyKeyConflict',
      'This Idempotency-Key was already used for a different transfer. Use a new key for a new transfer.',
      { details: { idempotencyKey } },
    ),
  transferPingPong: () =>
    new HordeError(
      'TooFastKudosTransfers',
      'The recipient sent you kudos a moment ago; wait a minute before sending kudos back.',
    ),
  /** `spendable`: balance − reserved − floor, in centikudos. */
  transferNotEnough: (requested: number, spendable: number) =>
    new HordeError('KudosTransferNotEnough', 'You do not have enough kudos to transfer this amount.', {
      details: { requested: requested / 100, available: Math.max(0, spendable) / 100 },
    }),

  tooManyWorkers: (owned: number, limit: number) =>
    new HordeError(
      'TooManyWorkers',
      `This account already has ${owned} workers, the most it may have. Delete an unused worker or ask a moderator to trust the account.`,
      { details: { owned, limit } },
    ),
  workerOfAnotherOwner: (worker: string) =>
    new HordeError(
      'WrongCredentials',
      'Wrong credentials to submit as this worker: the name belongs to another account. Use the API key of its owner, or pick another name.',
      { details: { worker } },
    ),
  workerOfAnotherKind: (worker: string, existing: RequestKind, wanted: RequestKind) =>
    new HordeError(
      'PolymorphicNameConflict',
      `A ${existing} worker already uses this name; an ${wanted} worker needs a different one.`,
      { details: { worker } },
    ),
  workerNameTaken: () => new HordeError('WorkerNameAlreadyExists', 'Another worker already uses this name.'),
};
