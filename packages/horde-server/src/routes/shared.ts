/** Pieces the route files share: the request origin, the engine call context, limits, the no-job pop. */
import type { GenerateOptions, GenerateResult, RequestKind } from '@hordekit/core';
import type { Context, MiddlewareHandler } from 'hono';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { reply } from '../http/respond.js';
import { noLimit, type RateLimitPolicy } from '../middleware/rate-limit.js';
import { clientIp } from '../middleware/request-context.js';
import type { RouteDeps } from '../server.js';

/** The origin URLs are minted for: the configured public URL, else where this request came in. */
export function originOf(c: Context): string {
  return new URL(c.req.url).origin;
}

export function limit(deps: RouteDeps, policy: RateLimitPolicy): MiddlewareHandler<ServerEnv> {
  return deps.limits ? deps.limits.limit(policy) : noLimit;
}

/** What the engine keeps with a request: who sent it, from where. */
export function requestMeta(c: Context<ServerEnv>): GenerateOptions {
  return { meta: { clientAgent: c.var.clientAgent, ip: clientIp(c), origin: originOf(c) } };
}

/** Request and job ids are UUIDs; anything else cannot name one (answered 404 like an unknown id). */
export function looksLikeId(id: string): boolean {
  return id.length <= 64 && /^[0-9a-fA-F-]{8,64}$/.test(id);
}

/** The request record, 404 `RequestNotFound` when it is unknown, expired or of the other kind. */
export async function requireRequestOfKind(deps: RouteDeps, id: string, kind: RequestKind) {
  const request = looksLikeId(id) ? await deps.horde.store.getRequest(id) : undefined;
  if (!request || request.kind !== kind || request.state === 'expired') {
    throw new HttpError(
      'RequestNotFound',
      `No ${kind} request with this id is known: it never existed, or it expired (requests are kept 20 minutes after their last activity).`,
    );
  }
  return request;
}

/** Reads a query parameter that must be one of `allowed`; 400 with the choices otherwise. */
export function choice<T extends string>(c: Context, name: string, allowed: readonly T[], fallback: T): T {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new HttpError('BadRequest', `\`${name}\` must be one of: ${allowed.join(', ')}.`);
}

/** The answer to `generate/async` (image or text): 202 `{id, kudos, message?, warnings?}`, or 200 `{kudos}` for a dry run. */
export function asyncAnswer(c: Context, result: GenerateResult): Response {
  if (result.id === null) return reply(c, { kudos: result.kudos });
  const answer: Record<string, unknown> = { id: result.id, kudos: result.kudos };
  if (result.message) answer.message = result.message;
  if (result.warnings.length) answer.warnings = result.warnings;
  return reply(c, answer, 202);
}
