/**
 * Errors on the wire (spec §0.2): `{ message, rc }`, and for schema failures flask-restx's shape —
 * `{ errors: { field: reason }, message: "Input payload validation failed" }` — to which we add
 * `rc: "ValidationError"` so every error carries a code. Anything unexpected is logged and answered with a
 * 500 that says nothing about the internals.
 */
import { HordeError, type ValidationErrors } from '@hordekit/core';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { ServerEnv } from './env.js';
import { statusOf } from './status.js';

/** An HTTP-level problem found before the engine sees the request (bad JSON, a missing header…). */
export function badRequest(message: string, rc = 'BadRequest'): HttpError {
  return new HttpError(rc, message);
}

/** A return code that only exists at the HTTP edge (rate limits, body size, unknown routes). */
export class HttpError extends Error {
  constructor(
    readonly rc: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The flask-restx body for a missing or malformed field. */
export function validationFailed(errors: ValidationErrors): HordeError {
  return new HordeError('ValidationError', 'Input payload validation failed', { errors });
}

export function errorBody(rc: string, message: string, errors?: ValidationErrors) {
  return errors ? { message, rc, errors } : { message, rc };
}

/** The app's error handler: known errors become their wire body, anything else a logged 500. */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context<ServerEnv>): Response => answerError(error, c, logger);
}

function answerError(error: Error, c: Context<ServerEnv>, logger: Logger): Response {
  if (error instanceof HordeError) {
    return c.json(errorBody(error.rc, error.message, error.errors), statusOf(error.rc));
  }
  if (error instanceof HttpError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(errorBody(error.rc, error.message), statusOf(error.rc));
  }
  if (error instanceof HTTPException) {
    // Hono's own middleware (body limit and the like) raise these; keep the status, use our body.
    const status = error.status;
    const rc = status === 413 ? 'PayloadTooLarge' : status === 404 ? 'NotFound' : 'BadRequest';
    return c.json(errorBody(rc, error.message || 'The request could not be processed.'), status);
  }
  logger.error({ err: error, req: c.var.requestId, path: c.req.path.slice(0, 200) }, 'unhandled error');
  return c.json({ message: 'Internal Server Error', rc: 'InternalServerError' }, 500);
}

export function onNotFound(c: Context<ServerEnv>): Response {
  return c.json(errorBody('NotFound', 'There is nothing at this path. The API lives under /api/v2.'), 404);
}
