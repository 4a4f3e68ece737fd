/**
 * Where a benchmark server keeps its state, chosen by `BENCH_STORE` (read by `server.ts`):
 *
 *   sqlite    file SQLite and the SQLite image store in a temp directory: what `npm start` uses alone
 *   postgres  PostgreSQL (`DATABASE_URL`) for the horde and its images, the sweeps on an elected leader,
 *             and with `REDIS_URL` request events fanned out over Redis: one node of a scale-out horde,
 *             composed as `apps/community-horde/src/storage.ts` composes it
 *
 * On PostgreSQL, `BENCH_STRIPES` sets the money stripes of accounts created from then on (the anonymous
 * account is created when the horde starts, so it gets them too).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBus, HordeStore, Leadership } from '@hordekit/core';
import { createPostgresStore, startLeaderElection } from '@hordekit/core/postgres';
import { createRedisEventBus } from '@hordekit/core/redis';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { type BlobStore, createPostgresBlobStore, createSqliteBlobStore } from '@hordekit/horde-server';
import { Redis } from 'ioredis';

export interface BenchStorageOptions {
  store: 'sqlite' | 'postgres';
  /** For `postgres`. */
  databaseUrl?: string;
  /** For `postgres`: request events over Redis. */
  redisUrl?: string;
  /** For `postgres`: money stripes per account. @default the driver's (8) */
  stripes?: number;
}

export interface BenchStorage {
  store: HordeStore;
  blobs: BlobStore;
  events?: EventBus;
  leadership?: Leadership;
  /** Shared by every node of one horde, so that any node accepts the upload URLs another signed. */
  signingSecret?: string;
  /** The SQLite directory, for a checkpoint after a prefill. */
  dir?: string;
  close(): Promise<void>;
}

export async function openBenchStorage(options: BenchStorageOptions): Promise<BenchStorage> {
  if (options.store === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hordekit-bench-http-'));
    const store = await createSqliteStore({ path: join(dir, 'horde.db') });
    const blobs = await createSqliteBlobStore({ path: join(dir, 'images.db') });
    return {
      store,
      blobs,
      dir,
      async close() {
        await blobs.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = options.databaseUrl;
  if (!url) throw new Error('BENCH_STORE=postgres needs DATABASE_URL');
  const store = await createPostgresStore({ connectionString: url, stripes: options.stripes });
  const signingSecret = await store.sharedSetting('signing_secret', () => randomBytes(32).toString('hex'));
  const blobs = await createPostgresBlobStore({ connectionString: url });
  const leadership = startLeaderElection({ connectionString: url });
  await leadership.ready;
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  const subscriber = redis?.duplicate();
  const events = redis && subscriber ? createRedisEventBus({ redis, subscriber }) : undefined;
  await events?.ready;
  return {
    store,
    blobs,
    events,
    leadership,
    signingSecret,
    async close() {
      await events?.close();
      subscriber?.disconnect();
      redis?.disconnect();
      await leadership.stop();
      await blobs.close();
      await store.close();
    },
  };
}
