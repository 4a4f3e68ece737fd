/**
 * A remote horde's refusals as core's `HordeError`, so the chat framework's `explainError` reads the same
 * `rc`, `message` and `details` in remote mode as in embedded mode. The SDK throws `APIError` (status and
 * `error_code` = the wire `rc`, and a message replaced by its own table); our plain-fetch calls read the
 * `{ message, rc }` body themselves. The horde's own message is kept: it is the one written for people.
 */
import { HordeError, RETURN_CODES, type ReturnCode } from '@hordekit/core';
import { APIError } from './sdk.js';

const KNOWN: ReadonlySet<string> = new Set(RETURN_CODES);

/** The parts of an error answer the conversion needs. */
export interface WireError {
  status: number;
  rc?: string | undefined;
  message?: string | undefined;
  errors?: Record<string, string> | undefined;
  url?: string | undefined;
}

/**
 * A `HordeError` for a remote answer. An `rc` core does not know (the public horde has many more, and its
 * rate limiter answers 429 without one) becomes `Forbidden` for a 403 and `BadRequest` otherwise; the
 * original travels in `details.remoteRc`.
 */
export function hordeErrorFrom(wire: WireError, cause?: unknown): HordeError {
  const rc: ReturnCode =
    wire.rc !== undefined && KNOWN.has(wire.rc)
      ? (wire.rc as ReturnCode)
      : wire.status === 403
        ? 'Forbidden'
        : 'BadRequest';
  const message = wire.message?.trim() || `The remote horde answered HTTP ${wire.status}.`;
  const details: Record<string, unknown> = { status: wire.status, remoteRc: wire.rc ?? null };
  if (wire.url) details.url = wire.url;
  // "This request requires 117 kudos to fulfil" (upstream and hordekit alike): `explainError` says the number.
  const required = rc === 'KudosUpfront' ? /requires (\d+(?:\.\d+)?) kudos/.exec(message) : null;
  if (required?.[1]) details.required = Number(required[1]);
  const errors = wire.errors && Object.keys(wire.errors).length > 0 ? wire.errors : undefined;
  return new HordeError(rc, message, { details, errors, cause });
}

/** `APIError` → `HordeError`; anything else (network failures, aborts) is returned as it is. */
export function fromSdkError(error: unknown): unknown {
  if (!(error instanceof APIError)) return error;
  const raw = (error.rawError ?? {}) as { rc?: unknown; message?: unknown };
  return hordeErrorFrom(
    {
      status: error.status,
      rc: typeof error.error_code === 'string' ? error.error_code : undefined,
      message: typeof raw.message === 'string' ? raw.message : error.message,
      errors: error.errors,
      url: error.url,
    },
    error,
  );
}

/** Runs one SDK call and converts what it throws. */
export async function viaSdk<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromSdkError(error);
  }
}

/** A failed plain-fetch answer as a `HordeError` (the body is `{ message, rc }`, or not JSON at all). */
export async function fromResponse(response: Response): Promise<HordeError> {
  const text = await response.text().catch(() => '');
  let body: { rc?: unknown; message?: unknown; errors?: unknown } = {};
  try {
    body = text ? (JSON.parse(text) as typeof body) : {};
  } catch {
    body = { message: text.slice(0, 300) };
  }
  return hordeErrorFrom({
    status: response.status,
    rc: typeof body.rc === 'string' ? body.rc : undefined,
    message: typeof body.message === 'string' ? body.message : undefined,
    errors:
      body.errors && typeof body.errors === 'object' ? (body.errors as Record<string, string>) : undefined,
    url: response.url,
  });
}

/** True for a remote "no such request" (it never existed, or it expired). */
export function isNotFound(error: unknown): boolean {
  return error instanceof HordeError && error.rc === 'RequestNotFound';
}
