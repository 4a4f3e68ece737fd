/** Kudos transfers between accounts (spec §1.6, §2.11): every rule, an idempotency key, an audit row. */
import { HordeError } from '../errors.js';
import { toCenti } from '../ledger/money.js';
import { parseTransferAmount } from '../requests/validate.js';
import {
  assertActive,
  authenticate,
  type Credentials,
  findByAlias,
  floorOf,
  isAnonymous,
} from './accounts.js';
import type { EngineContext } from './context.js';

export interface TransferRequest {
  /** The recipient as `name#id` (or its id). */
  to: string;
  amount: unknown;
  idempotencyKey?: string | null;
}

export interface TransferOutcome {
  transferred: number;
  /** True when the idempotency key matched an earlier transfer and nothing moved this time. */
  replayed: boolean;
  transferId: number;
}

export async function transferKudos(
  ctx: EngineContext,
  credentials: Credentials,
  request: TransferRequest,
): Promise<TransferOutcome> {
  const sender = await authenticate(ctx, credentials);
  if (isAnonymous(sender)) {
    throw new HordeError(
      'KudosTransferFromAnon',
      'The anonymous account cannot send kudos. Register an account first.',
    );
  }
  assertActive(sender);
  if (sender.roles.flagged)
    throw new HordeError('SourceAccountFlagged', 'This account is flagged and cannot send kudos.');
  if (sender.roles.education) {
    throw new HordeError('EducationCannotSendKudos', 'Education accounts cannot send kudos to others.');
  }
  const amount = parseTransferAmount(request.amount);
  if (typeof request.to !== 'string' || request.to.length === 0 || request.to.length > 255) {
    throw new HordeError('InvalidTargetUsername', 'Name the recipient as username#id.');
  }
  const idempotencyKey = request.idempotencyKey ?? null;
  if (
    idempotencyKey !== null &&
    (typeof idempotencyKey !== 'string' || idempotencyKey.length > 255 || idempotencyKey.length === 0)
  ) {
    throw new HordeError('BadRequest', 'An Idempotency-Key must be 1 to 255 characters.');
  }
  const recipient = await findByAlias(ctx, request.to);
  if (!recipient) {
    throw new HordeError(
      'InvalidTargetUsername',
      'No account matches this recipient. Use the form username#id.',
    );
  }
  if (isAnonymous(recipient))
    throw new HordeError('KudosTransferToAnon', 'Kudos cannot be sent to the anonymous account.');
  if (recipient.id === sender.id)
    throw new HordeError('KudosTransferToSelf', 'You cannot transfer kudos to yourself.');
  if (recipient.roles.deleted) throw new HordeError('DeletedUser', 'The recipient account has been deleted.');
  if (recipient.roles.flagged)
    throw new HordeError(
      'TargetAccountFlagged',
      'The recipient account is flagged and cannot receive kudos.',
    );

  const now = ctx.clock.now();
  const result = await ctx.store.transfer({
    fromId: sender.id,
    toId: recipient.id,
    amount: toCenti(amount),
    senderFloor: floorOf(ctx, sender),
    senderBucket: recipient.roles.education ? 'donated' : 'gifted',
    pingPongSince: now - ctx.config.accounts.transferPingPongWindowMs,
    idempotencyKey,
    at: now,
  });
  ctx.logger.debug(
    { from: sender.id, to: recipient.id, amount, replayed: result.replayed },
    'kudos transferred',
  );
  return { transferred: amount, replayed: result.replayed, transferId: result.transfer.id };
}

/** `/kudos/award`: kudos granted (minted) by a privileged account. */
export async function awardKudos(
  ctx: EngineContext,
  credentials: Credentials,
  to: string,
  amount: unknown,
): Promise<{ awarded: number }> {
  const actor = await authenticate(ctx, credentials);
  if (!ctx.config.accounts.adminIds.includes(actor.id) && !actor.roles.moderator) {
    throw new HordeError('NotAllowedAwards', 'Only administrators and moderators may award kudos.');
  }
  const kudos = parseTransferAmount(amount);
  const recipient = typeof to === 'string' ? await findByAlias(ctx, to) : undefined;
  if (!recipient)
    throw new HordeError(
      'InvalidAwardUsername',
      'No account matches this recipient. Use the form username#id.',
    );
  if (isAnonymous(recipient))
    throw new HordeError('KudosAwardToAnon', 'Kudos cannot be awarded to the anonymous account.');
  await ctx.store.adjustBalance({
    accountId: recipient.id,
    kind: 'award',
    amount: toCenti(kudos),
    bucket: 'awarded',
    ref: `award:${actor.id}`,
    at: ctx.clock.now(),
  });
  return { awarded: kudos };
}
