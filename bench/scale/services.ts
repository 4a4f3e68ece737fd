/**
 * PostgreSQL and Redis for `bench/scale.ts`: the ones named by `DATABASE_URL` and `REDIS_URL`, or private
 * instances started with `scripts/services.sh` into a temp directory and stopped after. Each measured
 * configuration gets a fresh database, dropped after it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface Services {
  /** A database on the server to connect to for creating and dropping the per-configuration ones. */
  serverUrl: string;
  redisUrl: string;
  /** Where they came from, for the report. */
  description: string;
  /** Stops the private instances (a no-op for given ones). Safe to call twice. */
  stop(): void;
}

function parseEnvFile(path: string): Record<string, string> {
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => [match[1]!, match[2]!]);
  return Object.fromEntries(entries);
}

export function openServices(root: string): Services {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (DATABASE_URL && REDIS_URL) {
    return {
      serverUrl: DATABASE_URL,
      redisUrl: REDIS_URL,
      description: 'the PostgreSQL and Redis named by DATABASE_URL and REDIS_URL',
      stop: () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'hordekit-bench-scale-'));
  const script = join(root, 'scripts', 'services.sh');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync('bash', [script, 'stop', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    execFileSync('bash', [script, 'start', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const env = parseEnvFile(join(dir, 'env'));
    const serverUrl = env.HORDEKIT_TEST_DATABASE_URL;
    const redisUrl = env.HORDEKIT_TEST_REDIS_URL;
    if (!serverUrl || !redisUrl) throw new Error(`scripts/services.sh wrote no URLs into ${dir}/env`);
    return {
      serverUrl,
      redisUrl,
      description:
        'private PostgreSQL and Redis on loopback (`scripts/services.sh`: fsync on, `shared_buffers` 128 MB)',
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/** Creates a fresh database on the server, runs `work` with its URL, and drops it after. */
export async function withDatabase<T>(serverUrl: string, work: (url: string) => Promise<T>): Promise<T> {
  const name = `hordekit_bench_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      return await work(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
