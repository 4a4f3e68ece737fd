import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, redisPrefix, redisUrl, serviceUrls } from './services.js';

describe('test services', () => {
  it('exports both URLs to child processes too', () => {
    const urls = serviceUrls();
    expect(process.env.HORDEKIT_TEST_DATABASE_URL).toBe(urls.databaseUrl);
    expect(process.env.HORDEKIT_TEST_REDIS_URL).toBe(urls.redisUrl);
  });

  it('gives each caller a database of its own, and drops it', async () => {
    const db = await freshDatabase();
    const client = new pg.Client({ connectionString: db.url });
    // drop() terminates this connection below: a client without an 'error' listener would crash the run.
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)');
      await client.query('INSERT INTO t VALUES ($1, $2), ($3, $4)', [1, 'kudos ✨', 2, 'horde']);
      const { rows } = await client.query('SELECT name FROM t ORDER BY id');
      expect(rows.map((row) => row.name)).toEqual(['kudos ✨', 'horde']);
      // drop() must not wait for this client: it terminates it.
      await db.drop();
      await db.drop();
    } finally {
      await client.end().catch(() => {});
    }
    const other = await freshDatabase();
    expect(other.url).not.toBe(db.url);
    const admin = new pg.Client({ connectionString: serviceUrls().databaseUrl });
    await admin.connect();
    try {
      const name = (url: string) => new URL(url).pathname.slice(1);
      const { rows } = await admin.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [
        [name(db.url), name(other.url)],
      ]);
      expect(rows.map((row) => row.datname)).toEqual([name(other.url)]);
    } finally {
      await admin.end();
      await other.drop();
    }
  });

  it('gives each caller a Redis key prefix of its own', async () => {
    const prefix = redisPrefix();
    expect(prefix).toMatch(/^hk:[0-9a-f]+:$/);
    expect(redisPrefix()).not.toBe(prefix);
    const redis = new Redis(redisUrl(), { keyPrefix: prefix });
    try {
      await redis.set('greeting', 'hello', 'EX', 60);
      expect(await redis.get('greeting')).toBe('hello');
      const raw = new Redis(redisUrl());
      try {
        expect(await raw.get(`${prefix}greeting`)).toBe('hello');
        await raw.del(`${prefix}greeting`);
      } finally {
        await raw.quit();
      }
    } finally {
      await redis.quit();
    }
  });
});
