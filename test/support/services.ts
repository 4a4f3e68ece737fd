/**
 * PostgreSQL and Redis for test files. One server of each is shared by every test file (see
 * `services-setup.ts`), so isolation is by database (`freshDatabase`) and by key prefix (`redisPrefix`).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
// The `ProvidedContext` keys that `inject` reads are declared there.
import type {} from './services-setup.js';

const HOW =
  'set HORDEKIT_TEST_DATABASE_URL and HORDEKIT_TEST_REDIS_URL (e.g. from `scripts/services.sh start DIR`, ' +
  'then `set -a; . DIR/env; set +a`), or install the `postgresql` and `redis-server` packages so that ' +
  '`npm test` starts private instances itself';

function provided(key: 'databaseUrl' | 'redisUrl', what: string): string {
  const url = inject(key);
  if (url) return url;
  const why = inject('servicesError');
  throw new Error(`No ${what} server for tests${why ? ` (${why})` : ''}: ${HOW}.`);
}

/** Both server URLs, for tests that hand them to a server process; throws, saying how to get them, when absent. */
export function serviceUrls(): { databaseUrl: string; redisUrl: string } {
  return { databaseUrl: provided('databaseUrl', 'PostgreSQL'), redisUrl: redisUrl() };
}

/**
 * A new empty database `hk_<random hex>` on the test server, so test files running in parallel never see each
 * other's tables. `drop()` terminates whatever is still connected to it (a pool a test forgot to end) and drops
 * it; calling it twice is harmless.
 */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = provided('databaseUrl', 'PostgreSQL');
  const name = `hk_${randomBytes(8).toString('hex')}`;
  const admin = async (sql: string, params: unknown[] = []): Promise<void> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await admin(`DROP DATABASE IF EXISTS ${name}`);
    },
  };
}

/** The shared test Redis; throws, saying how to get one, when absent. Pair it with `redisPrefix()`. */
export function redisUrl(): string {
  return provided('redisUrl', 'Redis');
}

/** A key prefix `hk:<random hex>:` unique to this call, so test files sharing one Redis never collide. */
export function redisPrefix(): string {
  return `hk:${randomBytes(6).toString('hex')}:`;
}
