/**
 * Versioned migrations for the embedded database, tracked in `PRAGMA user_version`. Each entry runs once,
 * in order, inside a transaction; never edit a released entry — append a new one.
 */
import type { Database } from 'better-sqlite3';

// Indexes are kept to what queries need: every extra index is one more page written per job. The driver
// finds live requests and jobs in memory, so `requests` and `jobs` have only their primary keys (ids are
// time-ordered UUIDs, so inserts append to the same index page).
const MIGRATIONS: string[] = [
  // 1: accounts, ledger, requests, jobs, workers, soft state
  `
  CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    username        TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    api_key_hash    TEXT    UNIQUE,
    roles           TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    concurrency     INTEGER NOT NULL,
    balance         INTEGER NOT NULL DEFAULT 0,
    escrow          INTEGER NOT NULL DEFAULT 0,
    reserved        INTEGER NOT NULL DEFAULT 0,
    details         TEXT    NOT NULL,
    usage           TEXT    NOT NULL,
    contribution    TEXT    NOT NULL,
    contact         TEXT,
    public_workers  INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX accounts_username ON accounts (username COLLATE NOCASE);

  CREATE TABLE identities (
    provider     TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (provider, external_id)
  ) WITHOUT ROWID;

  CREATE TABLE journal (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    account_id     INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    balance_delta  INTEGER NOT NULL,
    escrow_delta   INTEGER NOT NULL,
    bucket         TEXT,
    ref            TEXT
  );
  CREATE INDEX journal_account ON journal (account_id, id);

  CREATE TABLE transfers (
    id               INTEGER PRIMARY KEY,
    from_id          INTEGER NOT NULL,
    to_id            INTEGER NOT NULL,
    amount           INTEGER NOT NULL,
    idempotency_key  TEXT,
    at               INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX transfers_idempotency ON transfers (from_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX transfers_pair ON transfers (from_id, to_id, at);

  CREATE TABLE requests (
    id                  TEXT    PRIMARY KEY,
    kind                TEXT    NOT NULL,
    account_id          INTEGER NOT NULL,
    body                TEXT    NOT NULL,
    models              TEXT    NOT NULL,
    needs               INTEGER NOT NULL,
    pixels              INTEGER NOT NULL,
    max_length          INTEGER NOT NULL,
    max_context_length  INTEGER NOT NULL,
    things              REAL    NOT NULL,
    job_price           INTEGER NOT NULL,
    priority            REAL    NOT NULL,
    sort_key            REAL    NOT NULL,
    seq                 INTEGER NOT NULL,
    jobs                INTEGER NOT NULL,
    waiting             INTEGER NOT NULL,
    processing          INTEGER NOT NULL,
    finished            INTEGER NOT NULL,
    faults              INTEGER NOT NULL,
    state               TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    consumed            INTEGER NOT NULL,
    reserved            INTEGER NOT NULL,
    meta                TEXT    NOT NULL
  );

  CREATE TABLE jobs (
    id                TEXT    PRIMARY KEY,
    request_id        TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    worker_id         TEXT    NOT NULL,
    worker_owner_id   INTEGER NOT NULL,
    model             TEXT    NOT NULL,
    seed              TEXT    NOT NULL,
    batch_index       INTEGER NOT NULL,
    state             TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    lease_expires_at  INTEGER NOT NULL,
    things            REAL    NOT NULL,
    result            TEXT,
    completed_at      INTEGER,
    reward            INTEGER NOT NULL DEFAULT 0,
    cost              INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE workers (
    id                   TEXT    PRIMARY KEY,
    name                 TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    owner_id             INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    last_check_in        INTEGER NOT NULL,
    online_since         INTEGER NOT NULL,
    uptime_credited_at   INTEGER NOT NULL,
    profile              TEXT    NOT NULL,
    maintenance          INTEGER NOT NULL DEFAULT 0,
    maintenance_message  TEXT,
    paused               INTEGER NOT NULL DEFAULT 0,
    info                 TEXT,
    speed_samples        TEXT    NOT NULL,
    stats                TEXT    NOT NULL,
    recent_aborts        TEXT    NOT NULL
  );
  CREATE UNIQUE INDEX workers_name ON workers (name COLLATE NOCASE);

  CREATE TABLE kv (
    key      TEXT PRIMARY KEY,
    value    TEXT NOT NULL,
    expires  INTEGER
  ) WITHOUT ROWID;
  `,
  // 2: generation statistics (see generation-stats.ts). `span` is the bucket length in milliseconds: a
  // minute, an hour, or 0 for the archive row of each model (everything older, `start` 0).
  `
  CREATE TABLE generation_stats (
    kind    TEXT    NOT NULL,
    span    INTEGER NOT NULL,
    start   INTEGER NOT NULL,
    model   TEXT    NOT NULL,
    jobs    INTEGER NOT NULL,
    things  REAL    NOT NULL,
    PRIMARY KEY (kind, span, start, model)
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to the latest schema. Safe to call on every start. */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this hordekit (${MIGRATIONS.length}); upgrade hordekit`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
