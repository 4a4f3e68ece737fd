/**
 * One error type for the whole engine. `rc` is the AI Horde return code (the same names the public horde
 * puts on the wire), so the server maps it to an HTTP status in one table and chat adapters map it to a
 * sentence. Messages never contain user input; the offending values travel in `details`.
 */

/** Every return code the engine raises. Names follow the AI Horde's `rc` values. */
export const RETURN_CODES = [
  // validation
  'ValidationError',
  'BadRequest',
  'MissingPrompt',
  'InvalidPromptSize',
  'NulByteInPayload',
  'TooManyUpscalers',
  'TooManyLoras',
  'BadLoraVersion',
  'TooManyTIs',
  'BadCFGDecimals',
  'TokenOverflow',
  'MissingFullSamplerOrder',
  'TooManyStopSequences',
  'ExcessiveStopSequence',
  'UnexpectedModelName',
  'ControlNetSourceMissing',
  'ControlNetMismatch',
  'ControlNetInpaintingMismatch',
  'HiResMismatch',
  'SourceMaskUnnecessary',
  'SourceImageRequiredForModel',
  'InpaintingMissingMask',
  'InvalidExtraSourceImages.',
  'TooManyExtraSourceImages.',
  'InvalidRemix',
  'RequiresTrust',
  'OnlyServiceAccountProxy',
  'InvalidPriorityUsername',
  'TooLongWorkerName',
  'TooLongUserName',
  'WorkerNameAlreadyExists',
  'PolymorphicNameConflict',
  'TooManyWorkers',
  'ProfaneWorkerName',
  'NoValidModels',
  // accounts and permissions
  'InvalidAPIKey',
  'Forbidden',
  'WrongCredentials',
  'NotAdmin',
  'NotModerator',
  'NotOwner',
  'NotPrivileged',
  'NotAllowedAwards',
  'AnonForbidden',
  'AnonForbiddenWorker',
  'DeletedUser',
  'UserNotFound',
  'NoUserModSelected',
  'NoWorkerModSelected',
  // scheduling
  'TooManyPrompts',
  'KudosUpfront',
  'MaintenanceMode',
  'WorkerMaintenance',
  'WorkerFlaggedMaintenance',
  'WorkerNotFound',
  'RequestNotFound',
  'InvalidJobID',
  'DuplicateGen',
  'AbortedGen',
  // kudos transfers
  'KudosTransferToSelf',
  'KudosTransferToAnon',
  'KudosTransferFromAnon',
  'KudosTransferNotEnough',
  'NegativeKudosTransfer',
  'InvalidKudosTransferAmount',
  'TooFastKudosTransfers',
  'FaultWhenKudosSending',
  'FaultWhenKudosReceiving',
  'SourceAccountFlagged',
  'TargetAccountFlagged',
  'EducationCannotSendKudos',
  'InvalidTargetUsername',
  'IdempotencyKeyConflict',
  'InvalidAwardUsername',
  'KudosAwardToAnon',
  // storage
  'StorageError',
] as const;

export type ReturnCode = (typeof RETURN_CODES)[number];

/** Field path → reason, the shape of the AI Horde's "Input payload validation failed" body. */
export type ValidationErrors = Record<string, string>;

export interface HordeErrorOptions {
  /** Values that explain the error (ids, amounts, limits). Never echoed into `message`. */
  details?: Record<string, unknown>;
  /** Per-field reasons for schema validation failures (`rc: 'ValidationError'`). */
  errors?: ValidationErrors;
  cause?: unknown;
}

export class HordeError extends Error {
  override readonly name = 'HordeError';
  readonly rc: ReturnCode;
  readonly details: Record<string, unknown>;
  readonly errors: ValidationErrors | undefined;

  constructor(rc: ReturnCode, message: string, options: HordeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.rc = rc;
    this.details = options.details ?? {};
    this.errors = options.errors;
  }

  /** The `{ message, rc }` body the AI Horde answers with. */
  toJSON(): { message: string; rc: ReturnCode; errors?: ValidationErrors } {
    return this.errors
      ? { message: this.message, rc: this.rc, errors: this.errors }
      : { message: this.message, rc: this.rc };
  }
}

export function isHordeError(error: unknown, rc?: ReturnCode): error is HordeError {
  return error instanceof HordeError && (rc === undefined || error.rc === rc);
}
