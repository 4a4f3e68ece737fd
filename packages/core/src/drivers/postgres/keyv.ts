/**
 * A keyv store adapter on the horde's PostgreSQL pool, for soft state every node must share (chat
 * settings, idempotency replies). The PostgreSQL twin of `drivers/sqlite/keyv.ts`: same table shape,
 * same namespace handling. Keyv itself serialises values and enforces TTLs; the `expires` column only
 * lets old rows be swept.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type pg from 'pg';
import { createOnce } from './tx.js';

/** Serialises `ensureKvTable` between nodes starting at once ('hordekv' in ASCII). */
const KV_TABLE_LOCK_KEY = 0x686f7264656b76n;

/**
 * Creates the `kv` table if it is missing. Idempotent, and safe when several nodes start at once: the
 * creation runs under a transaction-scoped advisory lock (`createOnce`).
 */
export async function ensureKvTable(pool: pg.Pool): Promise<void> {
  await createOnce(pool, KV_TABLE_LOCK_KEY, [
    'CREATE TABLE IF NOT EXISTS kv (key text PRIMARY KEY, value text NOT NULL, expires bigint)',
    'CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL',
  ]);
}

export class PostgresKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'postgres' };
  namespace?: string | undefined;

  /** The table must exist: call `ensureKvTable(pool)` once at start-up. */
  constructor(readonly pool: pg.Pool) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const { rows } = await this.pool.query<{ value: string; expires: string | null }>(
      'SELECT value, expires FROM kv WHERE key = $1',
      [key],
    );
    const row = rows[0];
    if (!row) return undefined;
    // bigint columns arrive as strings; epoch milliseconds fit a double exactly.
    if (row.expires !== null && Number(row.expires) <= Date.now()) {
      await this.pool.query('DELETE FROM kv WHERE key = $1 AND expires = $2', [key, row.expires]);
      return undefined;
    }
    return row.value as StoredData<Value>;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    await this.pool.query(
      `INSERT INTO kv (key, value, expires) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
      [key, typeof value === 'string' ? value : JSON.stringify(value), expires],
    );
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM kv WHERE key = $1', [key]);
    return (result.rowCount ?? 0) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async clear(): Promise<void> {
    if (this.namespace) {
      const escaped = this.namespace.replace(/[\\%_]/g, (c) => `\\${c}`);
      await this.pool.query("DELETE FROM kv WHERE key LIKE $1 ESCAPE '\\'", [`${escaped}:%`]);
    } else {
      await this.pool.query('DELETE FROM kv');
    }
  }

  /** Deletes rows whose TTL passed (keyv drops them lazily on read; this reclaims the space). */
  async sweepExpired(now = Date.now()): Promise<number> {
    const result = await this.pool.query('DELETE FROM kv WHERE expires IS NOT NULL AND expires <= $1', [now]);
    return result.rowCount ?? 0;
  }

  /** The pool belongs to the caller, who ends it. */
  async disconnect(): Promise<void> {}
}
