/**
 * The embedded default `BlobStore`: images in a SQLite database of their own (better-sqlite3, the one
 * SQLite driver of the repo), beside the horde's. An image write is one small transaction appended to
 * the WAL — tens of microseconds where a new file costs hundreds on a journalling file system — and the
 * checkpoints that copy the WAL into the database file run on a worker thread, as the horde store's do.
 * Images stored in the same turn of the event loop share one commit. `synchronous=NORMAL`: a stored image
 * survives a crash of the process.
 */
import { startCheckpointer } from '@hordekit/core/sqlite';
import Database from 'better-sqlite3';
import { type BlobStore, isValidBlobKey } from './types.js';

export interface SqliteBlobStoreOptions {
  /** Database file; `:memory:` for tests. */
  path: string;
  /** Checkpoint on a worker thread. @default true for files */
  backgroundCheckpoints?: boolean;
  /** When an image was written, for `listOlderThan` (tests pass their fake clock). @default Date.now */
  now?: () => number;
}

export async function createSqliteBlobStore(options: SqliteBlobStoreOptions): Promise<BlobStore> {
  const db = new Database(options.path);
  const inMemory = options.path === ':memory:';
  if (!inMemory) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  const background = !inMemory && (options.backgroundCheckpoints ?? true);
  // With the thread checkpointing, this is only the safety net should it fall behind.
  if (background) db.pragma('wal_autocheckpoint = 20000');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS blobs (
    key TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS blobs_created_at ON blobs (created_at);`);
  const checkpointer = background ? startCheckpointer(options.path, 200) : undefined;
  const put = db.prepare('INSERT OR REPLACE INTO blobs (key, created_at, data) VALUES (?, ?, ?)');
  const get = db.prepare<[string], { data: Buffer }>('SELECT data FROM blobs WHERE key = ?');
  const has = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blobs WHERE key = ?');
  const remove = db.prepare('DELETE FROM blobs WHERE key = ?');
  const older = db
    .prepare<[number, number], { key: string }>(
      'SELECT key FROM blobs WHERE created_at < ? ORDER BY created_at LIMIT ?',
    )
    .pluck(false);
  const checkKey = (key: string) => {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  };
  const now = options.now ?? Date.now;
  // Group commit: images stored in the same turn of the event loop share one transaction (one WAL
  // append), and each `put` resolves after that commit.
  let pending: { key: string; data: Uint8Array; done: () => void; failed: (error: unknown) => void }[] = [];
  const writeAll = db.transaction((batch: typeof pending) => {
    for (const item of batch) put.run(item.key, now(), item.data);
  });
  const flush = () => {
    const batch = pending;
    pending = [];
    try {
      writeAll(batch);
      for (const item of batch) item.done();
    } catch (error) {
      for (const item of batch) item.failed(error);
    }
  };
  let closed = false;
  return {
    async put(key, data) {
      checkKey(key);
      return new Promise<void>((done, failed) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ key, data, done, failed });
      });
    },
    async get(key) {
      checkKey(key);
      return get.get(key)?.data;
    },
    async has(key) {
      checkKey(key);
      return has.get(key) !== undefined;
    },
    async delete(key) {
      checkKey(key);
      remove.run(key);
    },
    async listOlderThan(before, limit) {
      return older.all(before, limit).map((row) => row.key);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (pending.length) flush();
      await checkpointer?.stop();
      db.close();
    },
  };
}
