import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, storeConformanceSuite, type TestDatabase } from '../../testing/index.js';
import { createPostgresStore } from './index.js';

// This file's own database; each test gets a fresh schema in it.
let database: TestDatabase | undefined;
let url: string;
beforeAll(async () => {
  database = await createTestDatabase('conformance');
  url = database.url;
});
afterAll(async () => {
  await database?.drop();
});

let schemas = 0;
storeConformanceSuite('postgres', async () => {
  const schema = `t${++schemas}`;
  let store = await createPostgresStore({ connectionString: url, schema, poolSize: 4 });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = await createPostgresStore({ connectionString: url, schema, poolSize: 4 });
      return store;
    },
    cleanup: async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
});
