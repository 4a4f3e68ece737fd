/**
 * The embedded horde as the migration reads it: horde.db, images.db and secrets.json opened under SQLite's
 * exclusive lock, and the accounts as the SQLite driver reads them back.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AccountRecord, ROLES } from '@hordekit/core';
import Database from 'better-sqlite3';
import { loadSecrets, type Secrets } from '../secrets.js';
import { CONTRIBUTION, DETAILS, USAGE_COLUMNS } from './columns.js';
import { Refusal } from './refusal.js';

/** The embedded schema this reads (`PRAGMA user_version`, core's drivers/sqlite/schema.ts). */
const SQLITE_SCHEMA = 2;

// biome-ignore lint/suspicious/noExplicitAny: rows are whatever the query selected
export type Row = Record<string, any>;

/** The requests that are copied and counted: every one that has not expired. */
export const LIVE_REQUESTS = "FROM requests WHERE state <> 'expired'";

export interface Sources {
  horde: Database.Database;
  /** Absent when the horde never opened its image store. */
  images: Database.Database | undefined;
  secrets: Secrets;
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

export function openSources(dataDir: string): Sources {
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
export function* sqliteAccounts(
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
