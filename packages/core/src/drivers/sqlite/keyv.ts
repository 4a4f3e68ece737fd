/**
 * A keyv store adapter on the horde's own SQLite connection, for soft state (rate-limit windows, chat
 * settings, idempotency replies). It avoids `@keyv/sqlite`, which would bring a second native SQLite
 * module. Keyv itself serialises values and enforces TTLs; the `expires` column only lets old rows be
 * swept.
 */
import { EventEmitter } from 'node:events';
import type { Database, Statement } from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

export class SqliteKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'sqlite' };
  namespace?: string | undefined;
  private readonly select: Statement<[string], { value: string; expires: number | null }>;
  private readonly upsert: Statement<[string, string, number | null]>;
  private readonly remove: Statement<[string]>;
  private readonly removePrefix: Statement<[string]>;
  private readonly removeAll: Statement<[]>;
  private readonly removeExpired: Statement<[number]>;

  constructor(readonly db: Database) {
    super();
    this.select = db.prepare('SELECT value, expires FROM kv WHERE key = ?');
    this.upsert = db.prepare(
      'INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires',
    );
    this.remove = db.prepare('DELETE FROM kv WHERE key = ?');
    this.removePrefix = db.prepare("DELETE FROM kv WHERE key LIKE ? ESCAPE '\\'");
    this.removeAll = db.prepare('DELETE FROM kv');
    this.removeExpired = db.prepare('DELETE FROM kv WHERE expires IS NOT NULL AND expires <= ?');
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const row = this.select.get(key);
    if (!row) return undefined;
    if (row.expires !== null && row.expires <= Date.now()) {
      this.remove.run(key);
      return undefined;
    }
    return row.value as StoredData<Value>;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const expires = typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : null;
    this.upsert.run(key, typeof value === 'string' ? value : JSON.stringify(value), expires);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.remove.run(key).changes > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async clear(): Promise<void> {
    if (this.namespace) {
      const escaped = this.namespace.replace(/[\\%_]/g, (c) => `\\${c}`);
      this.removePrefix.run(`${escaped}:%`);
    } else {
      this.removeAll.run();
    }
  }

  /** Deletes rows whose TTL passed (keyv drops them lazily on read; this reclaims the space). */
  sweepExpired(now = Date.now()): number {
    return this.removeExpired.run(now).changes;
  }

  async disconnect(): Promise<void> {}
}
