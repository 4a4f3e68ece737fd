/**
 * Where the community horde keeps its state, chosen by the environment:
 *
 * - neither DATABASE_URL nor REDIS_URL: the embedded default — SQLite files and secrets in the data
 *   directory, everything in one process;
 * - DATABASE_URL: PostgreSQL is the system of record (horde, images, chat settings, secrets), so any
 *   number of nodes can serve one horde; the nodes elect one of them to run the sweeps;
 * - REDIS_URL as well: request events fan out between nodes (SSE streams and chat progress work whichever
 *   node served the worker) and rate limits are counted once for all nodes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBus, HordeStore, Leadership } from '@hordekit/core';
import { createPostgresStore, startLeaderElection } from '@hordekit/core/postgres';
import { createRedisEventBus } from '@hordekit/core/redis';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { type BlobStore, createPostgresBlobStore, createSqliteBlobStore } from '@hordekit/horde-server';
import { Redis } from 'ioredis';
import type { KeyvStoreAdapter } from 'keyv';
import type { Logger } from 'pino';
import type { Env } from './env.js';
import { loadSecrets, type Secrets } from './secrets.js';

export interface Storage {
  /** What the start-up banner says about it. */
  description: string;
  /** True on PostgreSQL: several nodes may share this horde. */
  shared: boolean;
  store: HordeStore;
  blobs: BlobStore;
  /** Soft state that must persist (chat settings, linked accounts). */
  keyv: KeyvStoreAdapter;
  secrets: Secrets;
  /** The cross-node event bus (REDIS_URL), or undefined for the in-process one. */
  events?: EventBus;
  leadership?: Leadership;
  /** For shared rate limits (REDIS_URL), under `redisPrefix`. */
  redis?: Redis;
  redisPrefix?: string;
  /** Runs a start-up step once across every node starting at once. */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Called with `true` when this node becomes the sweeps leader. */
  onLeadership(listener: (leader: boolean) => void): void;
  close(): Promise<void>;
}

export async function openStorage(env: Env, dataDir: string, logger: Logger): Promise<Storage> {
  const redis = env.REDIS_URL ? await openRedis(env.REDIS_URL) : undefined;
  const base = env.DATABASE_URL ? await openPostgres(env.DATABASE_URL, logger) : await openEmbedded(dataDir);
  if (!redis) return base;
  const subscriber = redis.duplicate();
  const events = createRedisEventBus({
    redis,
    subscriber,
    channel: `${env.HORDEKIT_REDIS_PREFIX}:events`,
    onListenerError: (error) => logger.warn({ err: error }, 'event delivery failed'),
  });
  await events.ready;
  return {
    ...base,
    description: `${base.description}; events and rate limits in Redis (${redactUrl(env.REDIS_URL!)})`,
    events,
    redis,
    redisPrefix: `${env.HORDEKIT_REDIS_PREFIX}:rl`,
    async close() {
      await events.close();
      await base.close();
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

async function openEmbedded(dataDir: string): Promise<Storage> {
  const databasePath = join(dataDir, 'horde.db');
  const secrets = loadSecrets(dataDir, existsSync(databasePath));
  const store = await createSqliteStore({ path: databasePath });
  const blobs = await createSqliteBlobStore({ path: join(dataDir, 'images.db') });
  return {
    description: `SQLite in ${dataDir}`,
    shared: false,
    store,
    blobs,
    keyv: store.keyvStore(),
    secrets,
    exclusive: (_name, work) => work(),
    onLeadership: () => {},
    async close() {
      await blobs.close();
      await store.close();
    },
  };
}

async function openPostgres(url: string, logger: Logger): Promise<Storage> {
  const store = await createPostgresStore({ connectionString: url });
  const random = () => randomBytes(32).toString('base64url');
  const secrets: Secrets = {
    apiKeyPepper: await store.sharedSetting('api_key_pepper', random),
    signingSecret: await store.sharedSetting('signing_secret', random),
  };
  const blobs = await createPostgresBlobStore({ connectionString: url });
  const listeners: ((leader: boolean) => void)[] = [];
  const leadership = startLeaderElection({
    connectionString: url,
    logger,
    onChange: (leader) => {
      logger.info(
        { leader },
        leader ? 'this node now runs the sweeps' : 'this node no longer runs the sweeps',
      );
      for (const listener of listeners) listener(leader);
    },
  });
  await leadership.ready;
  return {
    description: `PostgreSQL (${redactUrl(url)})`,
    shared: true,
    store,
    blobs,
    keyv: store.keyvStore(),
    secrets,
    leadership,
    exclusive: (name, work) => store.exclusive(name, work),
    onLeadership: (listener) => listeners.push(listener),
    async close() {
      await leadership.stop();
      await blobs.close();
      await store.close();
    },
  };
}

async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // Reconnection is ioredis's job; an error event without a listener would crash the process.
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an invalid URL';
  }
}
