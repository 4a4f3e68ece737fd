/**
 * The copy: every table from SQLite into the empty PostgreSQL database in one transaction, in multi-row
 * inserts, the images in batches of bounded size; then the id sequences continue after the copied rows.
 */
import type { AccountContribution, AccountUsage, KudosDetails } from '@hordekit/core';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import {
  ACCOUNT_COLUMNS,
  CONTRIBUTION,
  DETAILS,
  JOB_COLUMNS,
  JOURNAL_COLUMNS,
  MONEY_COLUMNS,
  REQUEST_COLUMNS,
  STATS_COLUMNS,
  TRANSFER_COLUMNS,
  USAGE_COLUMNS,
  WORKER_COLUMNS,
} from './columns.js';
import { Refusal } from './refusal.js';
import { LIVE_REQUESTS, type Row, type Sources, sqliteAccounts } from './sqlite.js';

/** Money rows per account, as `createPostgresStore` gives new ones. The money goes on stripe 0; the driver spreads it on first use. */
const STRIPES = 8;
/** Images are sent in batches of at most this many bytes. */
const BATCH_BYTES = 16 * 1024 * 1024;

type Client = pg.PoolClient;

/** What was written, per table. */
export type Copied = Record<string, number>;

/** Inserts rows in multi-row statements (bounded by parameters and bytes); returns how many. */
async function insertAll(
  db: Client,
  table: string,
  columns: string[],
  rows: Iterable<unknown[]>,
): Promise<number> {
  const perBatch = Math.min(1000, Math.floor(30_000 / columns.length));
  let batch: unknown[][] = [];
  let bytes = 0;
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const values = batch.flat();
    const tuples = batch.map(
      (_, i) => `(${columns.map((__, j) => `$${i * columns.length + j + 1}`).join(', ')})`,
    );
    await db.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values);
    batch = [];
    bytes = 0;
  };
  for (const values of rows) {
    batch.push(values);
    count++;
    for (const value of values) if (value instanceof Uint8Array) bytes += value.byteLength;
    if (batch.length >= perBatch || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  return count;
}

function* mapRows(rows: Iterable<unknown>, toValues: (row: Row) => unknown[]): Generator<unknown[]> {
  for (const row of rows) yield toValues(row as Row);
}

/** Copies a table whose columns are the same on both sides. */
function copySame(
  db: Client,
  sqlite: Database.Database,
  table: string,
  columns: string[],
  from = `FROM ${table}`,
) {
  const select = sqlite.prepare(`SELECT ${columns.map((c) => `${table}.${c}`).join(', ')} ${from}`).raw();
  return insertAll(db, table, columns, select.iterate() as Iterable<unknown[]>);
}

async function copyAll(db: Client, sources: Sources): Promise<Copied> {
  const { horde } = sources;
  // One-way: never merge into a horde that already has data. The lock keeps a node from starting meanwhile.
  await db.query('LOCK TABLE accounts, journal, requests, workers IN EXCLUSIVE MODE');
  const { rows } = await db.query<{ accounts: number; other: number }>(
    `SELECT (SELECT count(*) FROM accounts)::integer AS accounts,
       (SELECT count(*) FROM journal)::integer + (SELECT count(*) FROM requests)::integer
         + (SELECT count(*) FROM workers)::integer AS other`,
  );
  const { accounts, other } = rows[0]!;
  if (accounts > 0 || other > 0) {
    throw new Refusal(
      `the PostgreSQL database already holds a horde (${accounts > 0 ? `${accounts} accounts` : 'journal rows, requests or workers'}). The migration is one-way and never merges: point DATABASE_URL at a new, empty database.`,
    );
  }

  const copied: Copied = {};
  copied.accounts = await insertAll(
    db,
    'accounts',
    ACCOUNT_COLUMNS,
    (function* () {
      for (const { record: a, keyHash } of sqliteAccounts(horde)) {
        const { id, username, kind, createdAt, concurrency, contact, publicWorkers } = a;
        const roles = JSON.stringify(a.roles);
        yield [id, username, kind, keyHash, roles, createdAt, concurrency, STRIPES, contact, publicWorkers];
      }
    })(),
  );
  await insertAll(
    db,
    'account_money',
    MONEY_COLUMNS,
    (function* () {
      for (const { record: a } of sqliteAccounts(horde)) {
        yield [
          a.id,
          0,
          a.balance,
          a.escrow,
          a.reserved,
          a.activeJobs,
          ...Object.keys(DETAILS).map((key) => a.details[key as keyof KudosDetails]),
          ...Object.keys(USAGE_COLUMNS).map((key) => a.usage[key as keyof AccountUsage]),
          ...Object.keys(CONTRIBUTION).map((key) => a.contribution[key as keyof AccountContribution]),
        ];
      }
    })(),
  );
  await db.query(
    'INSERT INTO account_money (account_id, stripe) SELECT id, s FROM accounts CROSS JOIN generate_series(1, $1 - 1) AS s',
    [STRIPES],
  );
  copied.identities = await copySame(db, horde, 'identities', ['provider', 'external_id', 'account_id']);
  copied['journal rows'] = await copySame(db, horde, 'journal', JOURNAL_COLUMNS, 'FROM journal ORDER BY id');
  copied.transfers = await copySame(db, horde, 'transfers', TRANSFER_COLUMNS, 'FROM transfers ORDER BY id');
  copied.requests = await insertAll(
    db,
    'requests',
    REQUEST_COLUMNS,
    mapRows(horde.prepare(`SELECT * ${LIVE_REQUESTS}`).iterate(), (row) =>
      REQUEST_COLUMNS.map((c) => (c === 'stripe' ? 0 : c === 'models' ? JSON.parse(row.models) : row[c])),
    ),
  );
  copied.jobs = await copySame(
    db,
    horde,
    'jobs',
    JOB_COLUMNS,
    "FROM jobs JOIN requests ON requests.id = jobs.request_id WHERE requests.state <> 'expired'",
  );
  copied.workers = await insertAll(
    db,
    'workers',
    WORKER_COLUMNS,
    mapRows(horde.prepare('SELECT * FROM workers').iterate(), (row) => {
      const stats = JSON.parse(row.stats);
      const flags = { maintenance: row.maintenance === 1, paused: row.paused === 1 };
      const arrays = {
        speed_samples: JSON.parse(row.speed_samples),
        recent_aborts: JSON.parse(row.recent_aborts),
      };
      const numbers = {
        requests_fulfilled: stats.requestsFulfilled ?? 0,
        kudos_generated: stats.kudosGenerated ?? 0,
        kudos_uptime: stats.kudosUptime ?? 0,
        things_generated: stats.thingsGenerated ?? 0,
        uncompleted_jobs: stats.uncompletedJobs ?? 0,
      };
      const values: Row = { ...row, ...flags, ...arrays, ...numbers };
      return WORKER_COLUMNS.map((c) => values[c]);
    }),
  );
  copied['generation statistics'] = await insertAll(
    db,
    'generation_stats',
    STATS_COLUMNS,
    mapRows(horde.prepare('SELECT * FROM generation_stats').iterate(), (row) =>
      STATS_COLUMNS.map((c) => (c === 'shard' ? 0 : row[c])),
    ),
  );
  copied['kv rows'] = await insertAll(
    db,
    'kv',
    ['key', 'value', 'expires'],
    horde
      .prepare('SELECT key, value, expires FROM kv WHERE expires IS NULL OR expires > ?')
      .raw()
      .iterate(Date.now()) as Iterable<unknown[]>,
  );
  for (const [key, value] of [
    ['api_key_pepper', sources.secrets.apiKeyPepper],
    ['signing_secret', sources.secrets.signingSecret],
  ]) {
    await db.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }
  copied.settings = 2;
  copied.images = sources.images
    ? await insertAll(
        db,
        'blobs',
        ['key', 'created_at', 'data'],
        sources.images.prepare('SELECT key, created_at, data FROM blobs').raw().iterate() as Iterable<
          unknown[]
        >,
      )
    : 0;

  // New rows continue after the copied ones (`false`: the next value is the one set).
  const maxSeq = horde.prepare('SELECT coalesce(max(seq), 0) AS seq FROM requests').get() as { seq: number };
  await db.query(
    `SELECT setval('account_ids', coalesce((SELECT max(id) FROM accounts), 0) + 1, false),
    setval(pg_get_serial_sequence('journal', 'id'), coalesce((SELECT max(id) FROM journal), 0) + 1, false),
    setval(pg_get_serial_sequence('transfers', 'id'), coalesce((SELECT max(id) FROM transfers), 0) + 1, false),
    setval('request_seq', $1, false)`,
    [maxSeq.seq + 1],
  );
  return copied;
}

/** Runs the whole copy in one transaction on a connection of its own: all of it is committed, or none. */
export async function copyInOneTransaction(pool: pg.Pool, sources: Sources): Promise<Copied> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const copied = await copyAll(client, sources);
    await client.query('COMMIT');
    return copied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
