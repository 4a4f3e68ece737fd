/**
 * Per request: a short id, the client address, the client agent, and one log line when the answer goes
 * out (request id, route, status, latency) — pino, as the rest of hordekit logs. This runs on every
 * request, so it allocates little: ids come from a counter, and the log line is only built when the level
 * is enabled.
 */
import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import type { ServerEnv } from '../http/env.js';
import type { ResolvedServerOptions } from '../server.js';
import type { Metrics } from './metrics.js';

const DEFAULT_AGENT = 'unknown:0:unknown';

/** The TCP peer's address, or `X-Forwarded-For`'s first hop when the operator trusts a proxy. */
export function peerAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // `app.request()` in tests has no socket.
    return 'unknown';
  }
}

/** The client's address, worked out once per request (only rate limits and request records need it). */
export function clientIp(c: Context<ServerEnv>): string {
  let ip = c.var.clientIp;
  if (ip === undefined) {
    ip = peerAddress(c, c.var.trustProxy);
    c.set('clientIp', ip);
  }
  return ip;
}

export function requestContext(
  options: ResolvedServerOptions,
  logger: Logger,
  metrics: Metrics | undefined,
): MiddlewareHandler<ServerEnv> {
  // Unique per process run: a random prefix, then a counter.
  const prefix = randomBytes(3).toString('hex');
  let counter = 0;
  return async (c, next) => {
    const started = performance.now();
    const requestId = `${prefix}-${(counter++).toString(36)}`;
    const agent = (c.req.header('client-agent') ?? c.req.header('client_agent') ?? DEFAULT_AGENT).slice(
      0,
      256,
    );
    c.set('requestId', requestId);
    c.set('trustProxy', options.trustProxy);
    c.set('clientAgent', agent);
    await next();
    const matched = routePath(c, -1);
    const route = !matched || matched.endsWith('*') ? 'unmatched' : matched;
    const seconds = (performance.now() - started) / 1000;
    metrics?.observeRequest(c.req.method, route, c.res.status, seconds);
    const failed = c.res.status >= 500;
    if (!failed && !logger.isLevelEnabled('info')) return;
    const line = {
      req: requestId,
      method: c.req.method,
      route,
      path: c.req.path.slice(0, 200),
      status: c.res.status,
      ms: Math.round(seconds * 10_000) / 10,
      agent,
    };
    if (failed) logger.error(line, 'request failed');
    else logger.info(line, 'request');
  };
}
