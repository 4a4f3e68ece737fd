/**
 * A `BlobStore` in PostgreSQL, for several server nodes that must all serve every image: a worker's
 * upload lands on one node, the client's download on another. Images are a few hundred KB, which
 * `bytea` holds well; the table is the SQLite store's, so the behaviour matches (`put` overwrites,
 * `listOlderThan` answers oldest first).
 */
import { createOnce } from '@hordekit/core/postgres';
import pg from 'pg';
import { type BlobStore, isValidBlobKey } from './types.js';

/** Serialises table creation between nodes starting at once ('hordeblb' in ASCII). */
const BLOBS_TABLE_LOCK_KEY = 0x686f726465626c62n;

export interface PostgresBlobStoreOptions {
  /** Where to connect, when no `pool` is given; the store then owns (and ends) its pool. */
  connectionString?: string;
  /** A pool to share with the rest of the server; `close()` leaves it open. */
  pool?: pg.Pool;
  /** When an image was written, for `listOlderThan` (tests pass their fake clock). @default Date.now */
  now?: () => number;
}

/**
 * Creates the `blobs` table if it is missing, under a transaction-scoped advisory lock (`createOnce`):
 * `CREATE ... IF NOT EXISTS` alone can still fail when two sessions race.
 */
async function ensureBlobsTable(pool: pg.Pool): Promise<void> {
  await createOnce(pool, BLOBS_TABLE_LOCK_KEY, [
    'CREATE TABLE IF NOT EXISTS blobs (key text PRIMARY KEY, created_at bigint NOT NULL, data bytea NOT NULL)',
    'CREATE INDEX IF NOT EXISTS blobs_created_at ON blobs (created_at)',
  ]);
}

export async function createPostgresBlobStore(options: PostgresBlobStoreOptions): Promise<BlobStore> {
  if (!options.pool && !options.connectionString) {
    throw new Error('createPostgresBlobStore needs a pool or a connectionString');
  }
  const ownPool = !options.pool;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString });
  try {
    await ensureBlobsTable(pool);
  } catch (error) {
    if (ownPool) await pool.end();
    throw error;
  }
  const now = options.now ?? Date.now;
  const checkKey = (key: string) => {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  };
  let closed = false;
  return {
    async put(key, data) {
      checkKey(key);
      await pool.query(
        `INSERT INTO blobs (key, created_at, data) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET created_at = excluded.created_at, data = excluded.data`,
        [key, now(), Buffer.from(data.buffer, data.byteOffset, data.byteLength)],
      );
    },
    async get(key) {
      checkKey(key);
      const { rows } = await pool.query<{ data: Buffer }>('SELECT data FROM blobs WHERE key = $1', [key]);
      return rows[0]?.data;
    },
    async has(key) {
      checkKey(key);
      const { rowCount } = await pool.query('SELECT 1 FROM blobs WHERE key = $1', [key]);
      return (rowCount ?? 0) > 0;
    },
    async delete(key) {
      checkKey(key);
      await pool.query('DELETE FROM blobs WHERE key = $1', [key]);
    },
    async listOlderThan(before, limit) {
      const { rows } = await pool.query<{ key: string }>(
        'SELECT key FROM blobs WHERE created_at < $1 ORDER BY created_at, key LIMIT $2',
        [before, limit],
      );
      return rows.map((row) => row.key);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownPool) await pool.end();
    },
  };
}
