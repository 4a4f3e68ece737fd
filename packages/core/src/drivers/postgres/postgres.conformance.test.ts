import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { storeConformanceSuite } from '../../testing/index.js';
import { createPostgresStore } from './index.js';

function serverUrl(): string {
  const url = process.env.HORDEKIT_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'HORDEKIT_TEST_DATABASE_URL is not set: these tests need PostgreSQL (bash scripts/services.sh start <dir>, then source <dir>/env)',
    );
  }
  return url;
}

// This file's own database; each test gets a fresh schema in it.
const database = `hordekit_conformance_${randomUUID().replaceAll('-', '')}`;
let url: string;
beforeAll(async () => {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const parsed = new URL(serverUrl());
  parsed.pathname = `/${database}`;
  url = parsed.toString();
});
afterAll(async () => {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
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
