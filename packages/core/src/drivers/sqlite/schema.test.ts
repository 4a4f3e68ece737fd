import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from './index.js';
import { SCHEMA_VERSION } from './schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('schema migrations', () => {
  it('brings a version 1 database (before generation statistics) up to date, keeping its data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hordekit-schema-'));
    dirs.push(dir);
    const path = join(dir, 'horde.db');
    const first = await createSqliteStore({ path });
    const alice = await first.createAccount({
      username: 'alice',
      kind: 'verified',
      apiKeyHash: null,
      concurrency: 30,
      createdAt: 0,
    });
    await first.close();
    // What a version 1 database looks like: no `generation_stats`.
    const db = new Database(path);
    db.exec('DROP TABLE generation_stats');
    db.pragma('user_version = 1');
    db.close();

    const store = await createSqliteStore({ path });
    expect(store.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(await store.getAccount(alice.id)).toMatchObject({ username: 'alice' });
    expect(await store.generationStats('image', 0)).toEqual({ kind: 'image', models: [] });
    await store.close();
  });
});
