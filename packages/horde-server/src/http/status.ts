/**
 * The one table from engine return codes to HTTP status (spec §0.3). Everything not listed is a 400: the
 * AI Horde answers bad input with 400 whatever its rc.
 */
import type { ReturnCode } from '@hordekit/core';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const STATUS: Partial<Record<ReturnCode | string, ContentfulStatusCode>> = {
  InvalidAPIKey: 401,
  Forbidden: 403,
  WrongCredentials: 403,
  NotAdmin: 403,
  NotModerator: 403,
  NotOwner: 403,
  NotPrivileged: 403,
  NotAllowedAwards: 403,
  AnonForbidden: 403,
  AnonForbiddenWorker: 403,
  AnonForbiddenUserMod: 403,
  DeletedUser: 403,
  KudosUpfront: 403,
  WorkerMaintenance: 403,
  WorkerFlaggedMaintenance: 403,
  TooManyWorkers: 403,
  WorkerNotFound: 404,
  RequestNotFound: 404,
  InvalidJobID: 404,
  UserNotFound: 404,
  NotFound: 404,
  RequestExpired: 410,
  Locked: 423,
  TooManyPrompts: 429,
  TooManyRequests: 429,
  PayloadTooLarge: 413,
  StorageError: 503,
};

/** HTTP status for a return code; 400 unless the table says otherwise. */
export function statusOf(rc: string): ContentfulStatusCode {
  return STATUS[rc] ?? 400;
}
