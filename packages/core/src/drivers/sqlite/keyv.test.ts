import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Keyv from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('keyv on the horde connection', () => {
  it('stores, expires, clears by namespace and persists across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hordekit-kv-'));
    dirs.push(dir);
    const path = join(dir, 'horde.db');
    const store = await createSqliteStore({ path });
    const settings = new Keyv({ store: store.keyvStore(), namespace: 'settings' });
    const limits = new Keyv({ store: store.keyvStore(), namespace: 'limits' });

    await settings.set('guild:1', { nsfw: false, models: ['stable_diffusion'] });
    await limits.set('user:7', 3, 20);
    expect(await settings.get('guild:1')).toEqual({ nsfw: false, models: ['stable_diffusion'] });
    expect(await limits.get('user:7')).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await limits.get('user:7')).toBeUndefined();

    await limits.set('user:8', 1);
    await limits.clear();
    expect(await limits.get('user:8')).toBeUndefined();
    expect(await settings.get('guild:1')).toEqual({ nsfw: false, models: ['stable_diffusion'] });
    expect(await settings.delete('guild:1')).toBe(true);
    expect(await settings.delete('guild:1')).toBe(false);

    await settings.set('guild:2', 'kept');
    await store.close();
    const reopened = await createSqliteStore({ path });
    const again = new Keyv({ store: reopened.keyvStore(), namespace: 'settings' });
    expect(await again.get('guild:2')).toBe('kept');
    expect(await again.has('guild:2')).toBe(true);
    await reopened.close();
  });

  it('sweeps expired rows', async () => {
    const store = await createSqliteStore({ path: ':memory:' });
    const kv = store.keyvStore();
    await kv.set('a', 'x', 1);
    await kv.set('b', 'y');
    expect(kv.sweepExpired(Date.now() + 10)).toBe(1);
    expect(await kv.get('b')).toBe('y');
    await store.close();
  });
});
