/**
 * PostgreSQL and Redis for test files that need real servers. Their URLs come from HORDEKIT_TEST_DATABASE_URL
 * and HORDEKIT_TEST_REDIS_URL, which the repository's vitest global setup exports (CI's servers, or private
 * ones it starts). One server of each is shared by every test file, so isolation is by database
 * (`createTestDatabase`) and by key prefix (`testRedisPrefix`).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const HOW =
  'start them with `bash scripts/services.sh start <dir>`, then `set -a; . <dir>/env; set +a` — or just run ' +
  '`npm test`, which starts private ones itself when PostgreSQL and Redis are installed';

function fromEnv(name: string, what: string): string {
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: these tests need ${what} (${HOW}).`);
  return url;
}

/** The test PostgreSQL server's URL (tests may create databases there); throws, saying how to get one, when unset. */
export function testDatabaseUrl(): string {
  return fromEnv('HORDEKIT_TEST_DATABASE_URL', 'PostgreSQL');
}

/** The shared test Redis's URL; throws, saying how to get one, when unset. Pair it with `testRedisPrefix()`. */
export function testRedisUrl(): string {
  return fromEnv('HORDEKIT_TEST_REDIS_URL', 'Redis');
}

/** A database of a test's own, from `createTestDatabase`: its URL, and `drop()` to remove it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database `hordekit_<prefix>_<random hex>`; `drop()` disconnects everyone and drops it (twice is harmless). */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  if (!/^[a-z][a-z0-9_]{0,36}$/.test(prefix)) throw new Error(`invalid test database prefix: ${prefix}`);
  const serverUrl = testDatabaseUrl();
  const name = `hordekit_${prefix}_${randomBytes(8).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A Redis key prefix `hk:<random hex>:` unique to this call, so tests sharing one Redis never collide. */
export function testRedisPrefix(): string {
  return `hk:${randomBytes(6).toString('hex')}:`;
}
