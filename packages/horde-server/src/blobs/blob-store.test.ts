/** Every image store passes the same cases: the port's contract. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@hordekit/core/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createFilesystemBlobStore } from './filesystem.js';
import { createPostgresBlobStore } from './postgres.js';
import { createSqliteBlobStore } from './sqlite.js';
import type { BlobStore } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'hordekit-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each PostgreSQL store gets an empty database of its own; all are dropped at the end.
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases.splice(0)) await database.drop();
});
async function freshDatabaseUrl(): Promise<string> {
  const database = await createTestDatabase('blobs');
  databases.push(database);
  return database.url;
}

const stores: [string, () => Promise<BlobStore>][] = [
  ['filesystem', () => createFilesystemBlobStore({ dir: mkdtempSync(join(dir, 'fs-')) })],
  ['sqlite file', () => createSqliteBlobStore({ path: join(mkdtempSync(join(dir, 'db-')), 'images.db') })],
  ['sqlite :memory:', () => createSqliteBlobStore({ path: ':memory:' })],
  ['postgres', async () => createPostgresBlobStore({ connectionString: await freshDatabaseUrl() })],
];

describe.each(stores)('%s blob store', (_name, open) => {
  it('stores, replaces, reads and deletes by key', async () => {
    const store = await open();
    const key = '0190b2c4-1111-7aaa-8bbb-123456789abc.webp';
    expect(await store.has(key)).toBe(false);
    expect(await store.get(key)).toBeUndefined();
    await store.put(key, Buffer.from('first'));
    await store.put(key, Buffer.from('second image'));
    expect(await store.has(key)).toBe(true);
    expect(Buffer.from((await store.get(key))!).toString()).toBe('second image');
    await store.delete(key);
    await store.delete(key); // deleting twice is fine
    expect(await store.has(key)).toBe(false);
    await store.close();
  });

  it('lists what was written before an instant, up to a limit', async () => {
    const store = await open();
    for (let i = 0; i < 5; i++) await store.put(`image-${i}.webp`, Buffer.alloc(10, i));
    expect(await store.listOlderThan(Date.now() - 60_000, 10)).toEqual([]);
    const later = Date.now() + 1000;
    expect((await store.listOlderThan(later, 10)).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `image-${i}.webp`),
    );
    expect(await store.listOlderThan(later, 2)).toHaveLength(2);
    await store.close();
  });

  it('stores many images written at once (one commit for the SQLite store)', async () => {
    const store = await open();
    const keys = Array.from({ length: 50 }, (_, i) => `batch-${i}.webp`);
    await Promise.all(keys.map((key, i) => store.put(key, Buffer.from(`image ${i}`))));
    const read = await Promise.all(keys.map((key) => store.get(key)));
    expect(read.map((bytes) => Buffer.from(bytes!).toString())).toEqual(keys.map((_, i) => `image ${i}`));
    await store.close();
  });

  it('refuses keys that could escape the store', async () => {
    const store = await open();
    for (const key of ['../secrets.json', '.hidden', 'a/b', '', 'x'.repeat(200)]) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/invalid blob key/);
    }
    await store.close();
  });
});

it('the SQLite store keeps images across a reopen', async () => {
  const path = join(mkdtempSync(join(dir, 'reopen-')), 'images.db');
  const first = await createSqliteBlobStore({ path });
  await first.put('kept.webp', Buffer.from('still here'));
  await first.close();
  const second = await createSqliteBlobStore({ path });
  expect(Buffer.from((await second.get('kept.webp'))!).toString()).toBe('still here');
  await second.close();
});

describe('the PostgreSQL store', () => {
  it('lets every node see the images any node stored', async () => {
    const url = await freshDatabaseUrl();
    // Two nodes starting at once both create the table; neither fails.
    const [first, second] = await Promise.all([
      createPostgresBlobStore({ connectionString: url }),
      createPostgresBlobStore({ connectionString: url }),
    ]);
    await first.put('shared.webp', Buffer.from('from node one'));
    expect(await second.has('shared.webp')).toBe(true);
    expect(Buffer.from((await second.get('shared.webp'))!).toString()).toBe('from node one');
    await second.delete('shared.webp');
    expect(await first.get('shared.webp')).toBeUndefined();
    await first.close();
    await second.close();
  });

  it('lists oldest first by its clock, and leaves a shared pool open on close', async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabaseUrl() });
    let now = 3000;
    const store = await createPostgresBlobStore({ pool, now: () => now });
    await store.put('c.webp', Buffer.from('c'));
    now = 1000;
    await store.put('a.webp', Buffer.from('a'));
    now = 2000;
    await store.put('b.webp', Buffer.from('b'));
    expect(await store.listOlderThan(2500, 10)).toEqual(['a.webp', 'b.webp']);
    expect(await store.listOlderThan(5000, 2)).toEqual(['a.webp', 'b.webp']);
    await store.close();
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM blobs');
    expect(rows[0]?.n).toBe(3);
    await pool.end();
  });
});
