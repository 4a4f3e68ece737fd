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
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createPostgresStore, type PostgresStore, SCHEMA_VERSION } from '@hordekit/core/postgres';
import { createPostgresBlobStore } from '@hordekit/horde-server';
import { redactUrl } from '../storage.js';
import { copyInOneTransaction } from './copy.js';
import { Refusal } from './refusal.js';
import { openSources } from './sqlite.js';
import { type Check, verify } from './verify.js';

/** The PostgreSQL schema this writes (core's drivers/postgres/schema.ts). */
const POSTGRES_SCHEMA = 2;

const USAGE = `usage: npm run migrate:sqlite-to-postgres -- [--data-dir DIR] [--database-url URL]

Copies the embedded horde in DIR (default HORDEKIT_DATA_DIR, else ./data) into the empty PostgreSQL
database URL (default DATABASE_URL), then checks that the kudos totals and every account match.
Stop the horde (npm start) first. The SQLite files are only read; the copy is one-way.`;

export interface MigrateIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: MigrateIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

interface Options {
  dataDir: string;
  databaseUrl: string;
}

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
    const copied = await copyInOneTransaction(store.pool, sources);
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
