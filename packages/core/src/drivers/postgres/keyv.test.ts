/** The keyv adapter on a real PostgreSQL: the same behaviour as the SQLite one, shared by every pool. */
import Keyv from 'keyv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/services.js';
import { ensureKvTable, PostgresKeyvStore } from './keyv.js';

// A database of this file's own, so the `kv` table starts empty.
let database: TestDatabase | undefined;
let url: string;
beforeAll(async () => {
  database = await createTestDatabase('kv');
  url = database.url;
});
afterAll(async () => {
  await database?.drop();
});

describe('keyv on PostgreSQL', () => {
  it('creates its table idempotently, even from several nodes at once', async () => {
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
    try {
      await Promise.all(pools.map((pool) => ensureKvTable(pool)));
      await ensureKvTable(pools[0]!);
      const { rows } = await pools[0]!.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kv'",
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('stores, expires, clears by namespace and persists across pools', async () => {
    const pool = new pg.Pool({ connectionString: url });
    await ensureKvTable(pool);
    const settings = new Keyv({ store: new PostgresKeyvStore(pool), namespace: 'x' });
    const limits = new Keyv({ store: new PostgresKeyvStore(pool), namespace: 'y' });

    await settings.set('guild:1', { nsfw: false, models: ['stable_diffusion'] });
    await limits.set('user:7', 3, 30);
    expect(await settings.get('guild:1')).toEqual({ nsfw: false, models: ['stable_diffusion'] });
    expect(await limits.get('user:7')).toBe(3);
    expect(await limits.has('user:7')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await limits.get('user:7')).toBeUndefined();
    expect(await limits.has('user:7')).toBe(false);

    await limits.set('user:8', 1);
    await limits.clear();
    expect(await limits.get('user:8')).toBeUndefined();
    expect(await settings.get('guild:1')).toEqual({ nsfw: false, models: ['stable_diffusion'] });
    expect(await settings.delete('guild:1')).toBe(true);
    expect(await settings.delete('guild:1')).toBe(false);
    expect(await settings.has('guild:1')).toBe(false);

    await settings.set('guild:2', 'kept');
    await pool.end();

    const again = new pg.Pool({ connectionString: url });
    try {
      await ensureKvTable(again);
      const reopened = new Keyv({ store: new PostgresKeyvStore(again), namespace: 'x' });
      expect(await reopened.get('guild:2')).toBe('kept');
      expect(await reopened.has('guild:2')).toBe(true);
    } finally {
      await again.end();
    }
  });

  it('escapes LIKE wildcards in a namespace and sweeps expired rows', async () => {
    const pool = new pg.Pool({ connectionString: url });
    try {
      await ensureKvTable(pool);
      const odd = new Keyv({ store: new PostgresKeyvStore(pool), namespace: 'a_%' });
      const plain = new Keyv({ store: new PostgresKeyvStore(pool), namespace: 'ab%' });
      await odd.set('k', 1);
      await plain.set('k', 2);
      await odd.clear();
      expect(await odd.get('k')).toBeUndefined();
      expect(await plain.get('k')).toBe(2);

      const store = new PostgresKeyvStore(pool);
      await store.set('sweep:a', 'x', 1);
      await store.set('sweep:b', 'y');
      expect(await store.sweepExpired(Date.now() + 10)).toBe(1);
      expect(await store.get('sweep:b')).toBe('y');
    } finally {
      await pool.end();
    }
  });
});
