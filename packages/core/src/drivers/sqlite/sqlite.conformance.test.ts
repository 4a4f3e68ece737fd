import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeConformanceSuite } from '../../testing/index.js';
import { createSqliteStore } from './index.js';

storeConformanceSuite('sqlite (:memory:)', async () => ({
  store: await createSqliteStore({ path: ':memory:' }),
}));

storeConformanceSuite('sqlite (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hordekit-sqlite-'));
  const path = join(dir, 'horde.db');
  let store = await createSqliteStore({ path });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = await createSqliteStore({ path });
      return store;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
