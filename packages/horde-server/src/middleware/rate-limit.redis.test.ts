/**
 * Rate limits shared through a real Redis: two server nodes count one client's calls together, and a
 * Redis outage falls back to per-node limits instead of failing requests.
 */
import { randomBytes } from 'node:crypto';
import { createTestHorde, testRedisPrefix, testRedisUrl } from '@hordekit/core/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteBlobStore } from '../blobs/sqlite.js';
import { createServer, type HordeServer } from '../server.js';
import type { RateLimitOptions } from './rate-limit.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A connection that is ready: until then the limits use their per-node insurance. */
async function connect(): Promise<Redis> {
  const redis = new Redis(testRedisUrl());
  cleanups.push(async () => {
    if (redis.status !== 'end') redis.disconnect();
  });
  await redis.ping();
  return redis;
}

/** One server node with its own horde and its own Redis connection; 2 calls a second per client address. */
async function node(rateLimits: RateLimitOptions): Promise<HordeServer> {
  const t = await createTestHorde();
  const blobs = await createSqliteBlobStore({ path: ':memory:' });
  const server = createServer({
    horde: t.horde,
    blobs,
    trustProxy: true,
    rateLimits: { policies: { users: [{ points: 2, seconds: 1, key: 'ip' }] }, ...rateLimits },
  });
  cleanups.push(async () => {
    await server.close();
    await t.horde.close();
    await blobs.close();
  });
  return server;
}

/** A client address of its own per test, so windows left in Redis by another test never count. */
const freshClient = () => `10.${randomBytes(3).join('.')}`;
const listUsers = (server: HordeServer, client: string) =>
  server.app.request('http://horde.test/api/v2/users', { headers: { 'x-forwarded-for': client } });

describe('rate limits shared through Redis', () => {
  it('counts one client across two nodes', async () => {
    const keyPrefix = `${testRedisPrefix()}rl`;
    const a = await node({ redis: await connect(), keyPrefix });
    const b = await node({ redis: await connect(), keyPrefix });
    const client = freshClient();

    const first = await listUsers(a, client);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    const second = await listUsers(b, client);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    for (const server of [a, b]) {
      const over = await listUsers(server, client);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(over.headers.get('x-ratelimit-limit')).toBe('2');
      expect(await over.json()).toEqual({
        message: 'Rate limit exceeded: 2 per 1 second',
        rc: 'TooManyRequests',
      });
    }
    // Another client has a window of its own.
    expect((await listUsers(b, freshClient())).status).toBe(200);
    // The window ends for both nodes at once.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await listUsers(b, client)).status).toBe(200);
  });

  it('falls back to per-node limits when the Redis connection is gone', async () => {
    const redis = await connect();
    const a = await node({ redis, keyPrefix: `${testRedisPrefix()}rl` });
    const client = freshClient();
    expect((await listUsers(a, client)).status).toBe(200);
    await redis.quit();

    // The insurance window is this node's own, so it starts afresh: two more, then 429.
    expect((await listUsers(a, client)).status).toBe(200);
    expect((await listUsers(a, client)).status).toBe(200);
    const over = await listUsers(a, client);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('does not wait for a Redis that cannot be reached', async () => {
    const unreachable = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 200 });
    unreachable.on('error', () => {});
    cleanups.push(async () => unreachable.disconnect());
    const a = await node({ redis: unreachable });
    const client = freshClient();
    const started = Date.now();
    expect((await listUsers(a, client)).status).toBe(200);
    expect((await listUsers(a, client)).status).toBe(200);
    expect((await listUsers(a, client)).status).toBe(429);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
