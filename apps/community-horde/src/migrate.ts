/**
 * `npm run migrate:sqlite-to-postgres`: moves an embedded community horde to PostgreSQL, one way.
 *
 * It reads HORDEKIT_DATA_DIR (horde.db, images.db, secrets.json) under SQLite's exclusive lock — a running
 * horde holds a shared lock on its files even when idle, so the lock is refused while `npm start` runs, and
 * no horde can open the files until the copy is done — and writes an empty DATABASE_URL in one transaction:
 * accounts with their key hashes and money, identities, the journal and transfers (ids kept), requests that
 * have not expired and their jobs, workers, generation statistics, the kv rows (chat settings), the two
 * secrets and the images. Then it reads PostgreSQL back through the store and compares it with SQLite: the
 * ledger totals, every account, and the counts.
 *
 * Exit status: 0 copied and verified; 2 refused, nothing written; 3 copied but the check found a difference
 * (do not use that database: recreate it); 1 anything else.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import {
  type AccountContribution,
  type AccountRecord,
  type AccountUsage,
  type KudosDetails,
  ROLES,
} from '@hordekit/core';
import { createPostgresStore, type PostgresStore, SCHEMA_VERSION } from '@hordekit/core/postgres';
import { createPostgresBlobStore } from '@hordekit/horde-server';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { loadSecrets, type Secrets } from './secrets.js';
import { redactUrl } from './storage.js';

/** The embedded schema this reads (`PRAGMA user_version`, core's drivers/sqlite/schema.ts). */
const SQLITE_SCHEMA = 2;
/** The PostgreSQL schema this writes (core's drivers/postgres/schema.ts). */
const POSTGRES_SCHEMA = 1;
/** Money rows per account, as `createPostgresStore` gives new ones. The money goes on stripe 0; the driver spreads it on first use. */
const STRIPES = 8;
/** Images are sent in batches of at most this many bytes. */
const BATCH_BYTES = 16 * 1024 * 1024;

const USAGE = `usage: npm run migrate:sqlite-to-postgres -- [--data-dir DIR] [--database-url URL]

Copies the embedded horde in DIR (default HORDEKIT_DATA_DIR, else ./data) into the empty PostgreSQL
database URL (default DATABASE_URL), then checks that the kudos totals and every account match.
Stop the horde (npm start) first. The SQLite files are only read; the copy is one-way.`;

// biome-ignore lint/suspicious/noExplicitAny: rows are whatever the query selected
type Row = Record<string, any>;
type Client = pg.PoolClient;

export interface MigrateIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: MigrateIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Something the tool will not do (exit 2); nothing was written. */
class Refusal extends Error {}

const DETAILS: Record<keyof KudosDetails, string> = {
  accumulated: 'd_accumulated',
  gifted: 'd_gifted',
  donated: 'd_donated',
  admin: 'd_admin',
  received: 'd_received',
  recurring: 'd_recurring',
  awarded: 'd_awarded',
  styled: 'd_styled',
};
const USAGE_COLUMNS: Record<keyof AccountUsage, string> = {
  megapixelsteps: 'u_megapixelsteps',
  tokens: 'u_tokens',
  imageRequests: 'u_image_requests',
  textRequests: 'u_text_requests',
};
const CONTRIBUTION: Record<keyof AccountContribution, string> = {
  megapixelsteps: 'c_megapixelsteps',
  tokens: 'c_tokens',
  imagesFulfilled: 'c_images',
  textsFulfilled: 'c_texts',
};

/** Column names, space-separated. */
const columns = (names: string) => names.split(' ');

const ACCOUNT_COLUMNS = columns(
  'id username kind api_key_hash roles created_at concurrency stripes contact public_workers',
);
const MONEY_COLUMNS = [
  ...columns('account_id stripe balance escrow reserved active'),
  ...Object.values(DETAILS),
  ...Object.values(USAGE_COLUMNS),
  ...Object.values(CONTRIBUTION),
];
const REQUEST_COLUMNS = columns(
  'id kind account_id stripe body models needs pixels max_length max_context_length things job_price priority sort_key seq jobs waiting processing finished faults state created_at expires_at consumed reserved meta',
);
const JOB_COLUMNS = columns(
  'id request_id kind worker_id worker_owner_id model seed batch_index state created_at lease_expires_at things result completed_at reward cost',
);
const WORKER_COLUMNS = columns(
  'id name kind owner_id created_at last_check_in online_since uptime_credited_at profile maintenance maintenance_message paused info speed_samples recent_aborts requests_fulfilled kudos_generated kudos_uptime things_generated uncompleted_jobs',
);
const JOURNAL_COLUMNS = columns('id at account_id kind balance_delta escrow_delta bucket ref');
const TRANSFER_COLUMNS = columns('id from_id to_id amount idempotency_key at');
const STATS_COLUMNS = columns('kind span start model shard jobs things');
const LIVE_REQUESTS = "FROM requests WHERE state <> 'expired'";

interface Options {
  dataDir: string;
  databaseUrl: string;
}

interface Sources {
  horde: Database.Database;
  /** Absent when the horde never opened its image store. */
  images: Database.Database | undefined;
  secrets: Secrets;
}

/** What was written, per table. */
type Copied = Record<string, number>;

/** `--help` gives `undefined`. */
function readOptions(argv: string[], env: Record<string, string | undefined>): Options | undefined {
  let values: { 'data-dir'?: string; 'database-url'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new Refusal(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) return undefined;
  const databaseUrl = values['database-url'] ?? env.DATABASE_URL;
  if (!databaseUrl)
    throw new Refusal(`no PostgreSQL database: set DATABASE_URL or pass --database-url\n${USAGE}`);
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Refusal('the database URL must look like postgres://user:password@host:5432/database');
  }
  return { dataDir: resolve(values['data-dir'] ?? env.HORDEKIT_DATA_DIR ?? './data'), databaseUrl };
}

/**
 * Opens a SQLite file for reading under an exclusive lock, held until it is closed. The handle is
 * read-write only because a read-only one cannot take the lock; `query_only` keeps it from writing.
 */
function openLocked(path: string): Database.Database {
  const db = new Database(path, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    db.pragma('query_only = ON');
    return db;
  } catch (error) {
    db.close();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY') {
      throw new Refusal(
        `${path} is in use: a horde is running on this data directory. Stop it (Ctrl-C where \`npm start\` runs) and run the migration again.`,
      );
    }
    if (code === 'SQLITE_NOTADB') throw new Refusal(`${path} is not a SQLite database`);
    throw error;
  }
}

function openSources(dataDir: string): Sources {
  if (!existsSync(dataDir)) throw new Refusal(`the data directory ${dataDir} does not exist (--data-dir)`);
  const hordePath = join(dataDir, 'horde.db');
  if (!existsSync(hordePath)) {
    throw new Refusal(
      `no embedded horde in ${dataDir}: horde.db is missing (--data-dir or HORDEKIT_DATA_DIR)`,
    );
  }
  if (!existsSync(join(dataDir, 'secrets.json'))) {
    throw new Refusal(
      `${dataDir} has horde.db but no secrets.json: start the horde once with npm start (it recreates the file as it always would), stop it, and run the migration again`,
    );
  }
  const horde = openLocked(hordePath);
  let images: Database.Database | undefined;
  try {
    const version = horde.pragma('user_version', { simple: true }) as number;
    if (version !== SQLITE_SCHEMA) {
      throw new Refusal(
        version === 0
          ? `${hordePath} holds no hordekit horde`
          : version < SQLITE_SCHEMA
            ? `${hordePath} has schema version ${version}: start it once with this hordekit (npm start upgrades it to ${SQLITE_SCHEMA}), stop it, and run the migration again`
            : `${hordePath} has schema version ${version}, newer than this migration knows (${SQLITE_SCHEMA}): upgrade hordekit`,
      );
    }
    const imagesPath = join(dataDir, 'images.db');
    images = existsSync(imagesPath) ? openLocked(imagesPath) : undefined;
    return { horde, images, secrets: loadSecrets(dataDir, true) };
  } catch (error) {
    images?.close();
    horde.close();
    throw error;
  }
}

/** The account as the SQLite driver reads it back (its `accountFromRow`, with `activeJobs` as on load). */
function sqliteAccount(row: Row, activeJobs: number): AccountRecord {
  const pick = <K extends string>(columns: Record<K, string>, json: string) => {
    const parsed = JSON.parse(json) as Partial<Record<K, number>>;
    return Object.fromEntries((Object.keys(columns) as K[]).map((key) => [key, parsed[key] ?? 0])) as Record<
      K,
      number
    >;
  };
  return {
    id: row.id,
    username: row.username,
    kind: row.kind,
    roles: { ...Object.fromEntries(ROLES.map((role) => [role, false])), ...JSON.parse(row.roles) },
    createdAt: row.created_at,
    concurrency: row.concurrency,
    balance: row.balance,
    escrow: row.escrow,
    reserved: row.reserved,
    details: pick(DETAILS, row.details),
    usage: pick(USAGE_COLUMNS, row.usage),
    contribution: pick(CONTRIBUTION, row.contribution),
    activeJobs,
    contact: row.contact,
    publicWorkers: row.public_workers === 1,
  };
}

/** Every account as SQLite has it, in id order. `activeJobs` is not stored: it is what waits or runs. */
function* sqliteAccounts(
  db: Database.Database,
): Generator<{ record: AccountRecord; keyHash: string | null }> {
  const active = new Map<number, number>();
  for (const row of db
    .prepare(`SELECT account_id, sum(waiting + processing) AS active ${LIVE_REQUESTS} GROUP BY account_id`)
    .all() as Row[]) {
    active.set(row.account_id, row.active);
  }
  for (const row of db.prepare('SELECT * FROM accounts ORDER BY id').iterate() as Iterable<Row>) {
    yield { record: sqliteAccount(row, active.get(row.id) ?? 0), keyHash: row.api_key_hash };
  }
}

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

interface Check {
  what: string;
  sqlite: string;
  postgres: string;
}

const kudos = (centikudos: number) => (centikudos / 100).toFixed(2);

/** Reads PostgreSQL back through the store and compares it with SQLite; returns the table and what differs. */
async function verify(
  sources: Sources,
  store: PostgresStore,
): Promise<{ checks: Check[]; differences: string[] }> {
  const { horde } = sources;
  const count = (db: Database.Database | undefined, sql: string) =>
    db ? (db.prepare(sql).pluck().get() as number) : 0;
  const pgCount = async (sql: string) => Number((await store.pool.query(sql)).rows[0]!.n);

  const journal = horde
    .prepare(
      `SELECT
         coalesce(sum(CASE WHEN balance_delta + escrow_delta > 0 AND kind NOT IN ('transfer', 'escrow') THEN balance_delta + escrow_delta END), 0) AS minted,
         coalesce(sum(CASE WHEN balance_delta + escrow_delta < 0 AND kind NOT IN ('transfer', 'escrow') THEN -(balance_delta + escrow_delta) END), 0) AS burnt
       FROM journal`,
    )
    .get() as { minted: number; burnt: number };
  const money = horde
    .prepare('SELECT coalesce(sum(balance), 0) AS balances, coalesce(sum(escrow), 0) AS escrow FROM accounts')
    .get() as { balances: number; escrow: number };
  const totals = await store.ledgerTotals();
  const waiting = (await store.queueSummary('image')).requests + (await store.queueSummary('text')).requests;

  const differences: string[] = [];
  const expected = [...sqliteAccounts(horde)].map((a) => a.record);
  const actual = new Map<number, AccountRecord>();
  for (let offset = 0; ; offset += 500) {
    const page = await store.listAccounts({ offset, limit: 500, sort: 'age' });
    for (const account of page) actual.set(account.id, account);
    if (page.length < 500) break;
  }
  for (const want of expected) {
    const got = actual.get(want.id);
    if (!got) {
      differences.push(`account #${want.id} is missing`);
      continue;
    }
    for (const key of Object.keys(want) as (keyof AccountRecord)[]) {
      if (!isDeepStrictEqual(want[key], got[key])) {
        differences.push(
          `account #${want.id} ${key}: SQLite ${JSON.stringify(want[key])}, PostgreSQL ${JSON.stringify(got[key])}`,
        );
      }
    }
  }

  const settings = await store.pool.query<{ key: string; value: string }>(
    "SELECT key, value FROM settings WHERE key IN ('api_key_pepper', 'signing_secret')",
  );
  const setting = (key: string) => settings.rows.find((row) => row.key === key)?.value;
  const secretsMatch =
    setting('api_key_pepper') === sources.secrets.apiKeyPepper &&
    setting('signing_secret') === sources.secrets.signingSecret;

  const checks: Check[] = [
    { what: 'accounts', sqlite: `${expected.length}`, postgres: `${actual.size}` },
    {
      what: 'journal rows',
      sqlite: `${count(horde, 'SELECT count(*) FROM journal')}`,
      postgres: `${await pgCount('SELECT count(*) AS n FROM journal')}`,
    },
    { what: 'kudos minted', sqlite: kudos(journal.minted), postgres: kudos(totals.minted) },
    { what: 'kudos burnt', sqlite: kudos(journal.burnt), postgres: kudos(totals.burnt) },
    { what: 'kudos in balances', sqlite: kudos(money.balances), postgres: kudos(totals.balances) },
    { what: 'kudos in escrow', sqlite: kudos(money.escrow), postgres: kudos(totals.escrow) },
    {
      what: 'requests (not expired)',
      sqlite: `${count(horde, `SELECT count(*) ${LIVE_REQUESTS}`)}`,
      postgres: `${await pgCount('SELECT count(*) AS n FROM requests')}`,
    },
    {
      what: 'requests waiting',
      sqlite: `${count(horde, "SELECT count(*) FROM requests WHERE state = 'active' AND waiting > 0")}`,
      postgres: `${waiting}`,
    },
    {
      what: 'workers',
      sqlite: `${count(horde, 'SELECT count(*) FROM workers')}`,
      postgres: `${(await store.listWorkers()).length}`,
    },
    {
      what: 'images',
      sqlite: `${count(sources.images, 'SELECT count(*) FROM blobs')}`,
      postgres: `${await pgCount('SELECT count(*) AS n FROM blobs')}`,
    },
    {
      what: 'image bytes',
      sqlite: `${count(sources.images, 'SELECT coalesce(sum(length(data)), 0) FROM blobs')}`,
      postgres: `${await pgCount('SELECT coalesce(sum(octet_length(data)), 0) AS n FROM blobs')}`,
    },
    { what: 'settings (secrets)', sqlite: '2', postgres: secretsMatch ? '2' : 'differ' },
  ];
  for (const check of checks) {
    if (check.sqlite !== check.postgres) {
      differences.unshift(`${check.what}: SQLite ${check.sqlite}, PostgreSQL ${check.postgres}`);
    }
  }
  return { checks, differences };
}

function table(checks: Check[]): string[] {
  const rows = [{ what: '', sqlite: 'SQLite', postgres: 'PostgreSQL' }, ...checks];
  const width = (key: keyof Check) => Math.max(...rows.map((row) => row[key].length));
  return rows.map(
    (row) =>
      `  ${row.what.padEnd(width('what'))}  ${row.sqlite.padStart(width('sqlite'))}  ${row.postgres.padStart(width('postgres'))}`,
  );
}

async function migrate(options: Options, io: MigrateIo): Promise<number> {
  const sources = openSources(options.dataDir);
  let store: PostgresStore | undefined;
  try {
    if (SCHEMA_VERSION !== POSTGRES_SCHEMA) {
      throw new Refusal(
        `this migration writes PostgreSQL schema ${POSTGRES_SCHEMA}, the driver is at ${SCHEMA_VERSION}`,
      );
    }
    try {
      store = await createPostgresStore({ connectionString: options.databaseUrl, poolSize: 2 });
      // The image table is the blob store's own; creating the store creates it.
      await (await createPostgresBlobStore({ pool: store.pool })).close();
    } catch (error) {
      throw new Error(`cannot open PostgreSQL at ${redactUrl(options.databaseUrl)}: ${describe(error)}`);
    }
    io.out(`migrating ${options.dataDir} → ${redactUrl(options.databaseUrl)}`);
    const client = await store.pool.connect();
    let copied: Copied;
    try {
      await client.query('BEGIN');
      copied = await copyAll(client, sources);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    io.out(
      `copied in one transaction: ${Object.entries(copied)
        .map(([what, n]) => `${n} ${what}`)
        .join(', ')}`,
    );

    const { checks, differences } = await verify(sources, store);
    for (const line of table(checks)) io.out(line);
    if (differences.length > 0) {
      io.err('verification FAILED: PostgreSQL does not match SQLite:');
      for (const line of differences.slice(0, 50)) io.err(`  ${line}`);
      if (differences.length > 50) io.err(`  … and ${differences.length - 50} more`);
      io.err(
        'The copy is committed but wrong: do not start the horde on this database. Recreate it, and report this. The SQLite files are unchanged.',
      );
      return 3;
    }
    io.out('verified: kudos totals match');
    io.out(
      'next: start the horde with DATABASE_URL set (npm start). horde.db and images.db are no longer read; keep them as a backup.',
    );
    return 0;
  } finally {
    await store?.close();
    sources.images?.close();
    sources.horde.close();
  }
}

/** The message with its causes (the store wraps driver errors). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 5; e = e.cause) {
    parts.push(e.message.replace(/\.$/, ''));
  }
  return parts.join(': ') || String(error);
}

/** Runs the migration; resolves to the exit status. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  io: MigrateIo = processIo,
): Promise<number> {
  try {
    const options = readOptions(argv, env);
    if (!options) {
      io.out(USAGE);
      return 0;
    }
    return await migrate(options, io);
  } catch (error) {
    if (error instanceof Refusal) {
      io.err(`refused: ${error.message}`);
      return 2;
    }
    io.err(`migration failed: ${describe(error)}`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
