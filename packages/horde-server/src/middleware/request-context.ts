/**
 * Per request: a short id, the client address, the client agent, a child logger, and one log line when
 * the answer goes out (route, status, latency) — pino, as the rest of hordekit logs.
 */
import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import type { ServerEnv } from '../http/env.js';
import type { ResolvedServerOptions } from '../server.js';
import type { Metrics } from './metrics.js';

const DEFAULT_AGENT = 'unknown:0:unknown';

/** The TCP peer's address, or `X-Forwarded-For`'s first hop when the operator trusts a proxy. */
export function peerAddress(c: Parameters<MiddlewareHandler>[0], trustProxy: boolean): string {
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

export function requestContext(
  options: ResolvedServerOptions,
  logger: Logger,
  metrics: Metrics | undefined,
): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = randomBytes(6).toString('base64url');
    const agent = (c.req.header('client-agent') ?? c.req.header('client_agent') ?? DEFAULT_AGENT).slice(
      0,
      256,
    );
    c.set('requestId', requestId);
    c.set('clientIp', peerAddress(c, options.trustProxy));
    c.set('clientAgent', agent);
    c.set('logger', logger.child({ req: requestId }));
    await next();
    const matched = routePath(c, -1);
    const route = !matched || matched.endsWith('*') ? 'unmatched' : matched;
    const seconds = (performance.now() - started) / 1000;
    metrics?.observeRequest(c.req.method, route, c.res.status, seconds);
    const line = {
      method: c.req.method,
      route,
      path: c.req.path.slice(0, 200),
      status: c.res.status,
      ms: Math.round(seconds * 10_000) / 10,
      agent,
    };
    if (c.res.status >= 500) c.var.logger.error(line, 'request failed');
    else c.var.logger.info(line, 'request');
  };
}
