/**
 * Rate limits with the public horde's defaults (spec §4.1): fixed windows, keyed by client address and
 * path ("IP+path", so per request id on id routes), by API key and path, or by address alone. Each route
 * names its policy; a policy may stack windows (async: 90/min and 2/s). Counters live in
 * rate-limiter-flexible's memory store, or — given `redis` — in Redis, so that several server nodes behind
 * one load balancer share one count per client. With Redis, each window keeps a memory limiter of the same
 * size as its insurance: while Redis is unreachable (or still connecting) the limits hold per node instead
 * of failing every request with a 5xx.
 */
import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { clientIp } from './request-context.js';

export type RateLimitKey = 'ip' | 'ip+path' | 'key+path';

export interface RateLimitWindow {
  points: number;
  seconds: number;
  key: RateLimitKey;
  /** A higher allowance for the anonymous key (the public horde's 60/s for shared anonymous traffic). */
  anonymousPoints?: number;
}

export const RATE_LIMIT_POLICIES = {
  default: [{ points: 90, seconds: 60, key: 'ip' }],
  generate: [
    { points: 90, seconds: 60, key: 'ip+path' },
    { points: 2, seconds: 1, key: 'ip+path' },
    { points: 2, seconds: 1, key: 'key+path', anonymousPoints: 60 },
  ],
  status: [{ points: 10, seconds: 60, key: 'ip+path' }],
  textStatus: [{ points: 60, seconds: 60, key: 'ip+path' }],
  check: [{ points: 10, seconds: 1, key: 'ip+path' }],
  worker: [{ points: 60, seconds: 1, key: 'ip' }],
  transfer: [
    { points: 1, seconds: 1, key: 'key+path' },
    { points: 90, seconds: 3600, key: 'key+path' },
  ],
  workerDetails: [{ points: 30, seconds: 60, key: 'ip+path' }],
  users: [{ points: 90, seconds: 60, key: 'ip' }],
  userDetails: [{ points: 60, seconds: 60, key: 'ip+path' }],
  modes: [{ points: 30, seconds: 60, key: 'ip' }],
  register: [{ points: 10, seconds: 3600, key: 'ip' }],
} satisfies Record<string, RateLimitWindow[]>;

export type RateLimitPolicy = keyof typeof RATE_LIMIT_POLICIES;

export interface RateLimitOptions {
  /** Replace the windows of some policies. @default RATE_LIMIT_POLICIES */
  policies?: Partial<Record<RateLimitPolicy, RateLimitWindow[]>>;
  /** Addresses never limited (your own bots, a trusted front end). @default [] */
  exemptIps?: string[];
  /** @default '0000000000' */
  anonymousKey?: string;
  /**
   * Keep the counters in this Redis, shared by every node that uses it; the memory store is then only
   * the insurance for when Redis is unreachable. @default counters in this process's memory
   */
  redis?: Redis;
  /** Prefix of the Redis keys; hordes sharing one Redis need different ones. @default 'hordekit:rl' */
  keyPrefix?: string;
}

export interface RateLimits {
  /** Middleware enforcing one policy. */
  limit(policy: RateLimitPolicy): MiddlewareHandler<ServerEnv>;
}

function describe(window: RateLimitWindow, points: number): string {
  const unit = { 1: 'second', 60: 'minute', 3600: 'hour', 86400: 'day' }[window.seconds];
  return unit ? `${points} per 1 ${unit}` : `${points} per ${window.seconds} seconds`;
}

export function createRateLimits(options: RateLimitOptions): RateLimits {
  const exempt = new Set(options.exemptIps ?? []);
  const anonymousKey = options.anonymousKey ?? '0000000000';
  const limiters = new Map<string, RateLimiterAbstract>();
  function createLimiter(name: string, points: number, seconds: number): RateLimiterAbstract {
    const memory = new RateLimiterMemory({ points, duration: seconds, keyPrefix: name });
    if (!options.redis) return memory;
    return new RateLimiterRedis({
      storeClient: options.redis,
      points,
      duration: seconds,
      keyPrefix: `${options.keyPrefix ?? 'hordekit:rl'}:${name}`,
      // Go to the insurance at once while the connection is down, rather than queue behind reconnects.
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }
  function limiter(policy: string, index: number, points: number, seconds: number) {
    const name = `${policy}:${index}:${points}`;
    let found = limiters.get(name);
    if (!found) {
      found = createLimiter(name, points, seconds);
      limiters.set(name, found);
    }
    return found;
  }
  function keyOf(c: Context<ServerEnv>, window: RateLimitWindow): string | undefined {
    const ip = clientIp(c);
    if (window.key === 'ip') return ip;
    const path = `${c.req.method}@${c.req.path.slice(0, 300)}`;
    if (window.key === 'ip+path') return `${ip}@${path}`;
    const apiKey = c.req.header('apikey');
    if (!apiKey) return undefined;
    return `${createHash('sha256').update(apiKey).digest('base64url')}@${path}`;
  }

  return {
    limit(policy) {
      const windows: RateLimitWindow[] = options.policies?.[policy] ?? RATE_LIMIT_POLICIES[policy];
      return async (c, next) => {
        if (c.req.method === 'OPTIONS' || (exempt.size > 0 && exempt.has(clientIp(c)))) return next();
        let tightest: { window: RateLimitWindow; points: number; result: RateLimiterRes } | undefined;
        for (const [index, window] of windows.entries()) {
          const key = keyOf(c, window);
          if (key === undefined) continue;
          const points =
            window.anonymousPoints !== undefined && c.req.header('apikey') === anonymousKey
              ? window.anonymousPoints
              : window.points;
          let result: RateLimiterRes;
          try {
            result = await limiter(policy, index, points, window.seconds).consume(key);
          } catch (rejection) {
            if (!(rejection instanceof RateLimiterRes)) throw rejection;
            const retry = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
            throw new HttpError('TooManyRequests', `Rate limit exceeded: ${describe(window, points)}`, {
              'Retry-After': String(retry),
              'X-RateLimit-Limit': String(points),
              'X-RateLimit-Remaining': '0',
              'X-RateLimit-Reset': String(Math.ceil((Date.now() + rejection.msBeforeNext) / 1000)),
            });
          }
          if (!tightest || result.remainingPoints < tightest.result.remainingPoints) {
            tightest = { window, points, result };
          }
        }
        if (tightest) {
          c.header('X-RateLimit-Limit', String(tightest.points));
          c.header('X-RateLimit-Remaining', String(tightest.result.remainingPoints));
          c.header(
            'X-RateLimit-Reset',
            String(Math.ceil((Date.now() + tightest.result.msBeforeNext) / 1000)),
          );
        }
        return next();
      };
    },
  };
}

/** A middleware that does nothing, for servers without limits. */
export const noLimit: MiddlewareHandler<ServerEnv> = (_c, next) => next();
