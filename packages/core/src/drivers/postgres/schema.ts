/**
 * Versioned migrations for the PostgreSQL store, recorded in `schema_migrations`. They run at start-up
 * under a transaction-level advisory lock, so when several nodes start at once one applies them and the
 * others wait, then find nothing left to do. Never edit a released entry — append a new one.
 *
 * Money does not live on the account row. Each account has `stripes` rows in `account_money`, and an
 * operation touches one of them unless it must see the whole balance (see `money.ts`): many requests
 * charged to one account at once lock different rows instead of queueing behind one.
 */
import type { Db } from './tx.js';

const MIGRATIONS: string[] = [
  // 1: accounts and their money stripes, ledger, requests, jobs, workers, statistics, settings
  `
  CREATE SEQUENCE account_ids START 1 MINVALUE 0;
  CREATE TABLE accounts (
    id              bigint  PRIMARY KEY,
    username        text    NOT NULL,
    kind            text    NOT NULL,
    api_key_hash    text    UNIQUE,
    roles           json    NOT NULL,
    created_at      bigint  NOT NULL,
    concurrency     integer NOT NULL,
    stripes         integer NOT NULL,
    contact         text,
    public_workers  boolean NOT NULL DEFAULT false
  );
  CREATE INDEX accounts_username ON accounts (lower(username));

  CREATE TABLE account_money (
    account_id          bigint   NOT NULL REFERENCES accounts (id),
    stripe              integer  NOT NULL,
    balance             bigint   NOT NULL DEFAULT 0,
    escrow              bigint   NOT NULL DEFAULT 0,
    reserved            bigint   NOT NULL DEFAULT 0,
    active              integer  NOT NULL DEFAULT 0,
    -- Set when every stripe holds at least its share of this floor (limit): single-stripe debits
    -- (increments) are safe while it matches the operation's floor (limit). NULL: whole-account path.
    fast_floor          bigint,
    fast_limit          integer,
    d_accumulated       bigint   NOT NULL DEFAULT 0,
    d_gifted            bigint   NOT NULL DEFAULT 0,
    d_donated           bigint   NOT NULL DEFAULT 0,
    d_admin             bigint   NOT NULL DEFAULT 0,
    d_received          bigint   NOT NULL DEFAULT 0,
    d_recurring         bigint   NOT NULL DEFAULT 0,
    d_awarded           bigint   NOT NULL DEFAULT 0,
    d_styled            bigint   NOT NULL DEFAULT 0,
    u_megapixelsteps    double precision NOT NULL DEFAULT 0,
    u_tokens            double precision NOT NULL DEFAULT 0,
    u_image_requests    bigint   NOT NULL DEFAULT 0,
    u_text_requests     bigint   NOT NULL DEFAULT 0,
    c_megapixelsteps    double precision NOT NULL DEFAULT 0,
    c_tokens            double precision NOT NULL DEFAULT 0,
    c_images            bigint   NOT NULL DEFAULT 0,
    c_texts             bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, stripe)
  );

  CREATE TABLE identities (
    provider     text   NOT NULL,
    external_id  text   NOT NULL,
    account_id   bigint NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (provider, external_id)
  );

  CREATE TABLE journal (
    id             bigserial PRIMARY KEY,
    at             bigint NOT NULL,
    account_id     bigint NOT NULL,
    kind           text   NOT NULL,
    balance_delta  bigint NOT NULL,
    escrow_delta   bigint NOT NULL,
    bucket         text,
    ref            text
  );
  CREATE INDEX journal_account ON journal (account_id, id);

  CREATE TABLE transfers (
    id               bigserial PRIMARY KEY,
    from_id          bigint NOT NULL,
    to_id            bigint NOT NULL,
    amount           bigint NOT NULL,
    idempotency_key  text,
    at               bigint NOT NULL
  );
  CREATE UNIQUE INDEX transfers_idempotency ON transfers (from_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX transfers_pair ON transfers (from_id, to_id, at);

  CREATE SEQUENCE request_seq;
  CREATE TABLE requests (
    id                  text    PRIMARY KEY,
    kind                text    NOT NULL,
    account_id          bigint  NOT NULL,
    stripe              integer NOT NULL,
    body                json    NOT NULL,
    models              text[]  NOT NULL,
    needs               integer NOT NULL,
    pixels              bigint  NOT NULL,
    max_length          integer NOT NULL,
    max_context_length  integer NOT NULL,
    things              double precision NOT NULL,
    job_price           bigint  NOT NULL,
    priority            double precision NOT NULL,
    sort_key            double precision NOT NULL,
    seq                 bigint  NOT NULL,
    jobs                integer NOT NULL,
    waiting             integer NOT NULL,
    processing          integer NOT NULL,
    finished            integer NOT NULL,
    faults              integer NOT NULL,
    state               text    NOT NULL,
    created_at          bigint  NOT NULL,
    expires_at          bigint  NOT NULL,
    consumed            bigint  NOT NULL,
    reserved            bigint  NOT NULL,
    meta                json    NOT NULL
  );
  -- The queue: waiting requests in pop order.
  CREATE INDEX requests_queue ON requests (kind, sort_key DESC, seq) WHERE state = 'active' AND waiting > 0;
  CREATE INDEX requests_account ON requests (account_id, seq) WHERE state = 'active';
  CREATE INDEX requests_expiry ON requests (state, expires_at);

  CREATE TABLE jobs (
    id                text    PRIMARY KEY,
    request_id        text    NOT NULL,
    kind              text    NOT NULL,
    worker_id         text    NOT NULL,
    worker_owner_id   bigint  NOT NULL,
    model             text    NOT NULL,
    seed              text    NOT NULL,
    batch_index       integer NOT NULL,
    state             text    NOT NULL,
    created_at        bigint  NOT NULL,
    lease_expires_at  bigint  NOT NULL,
    things            double precision NOT NULL,
    result            json,
    completed_at      bigint,
    reward            bigint  NOT NULL DEFAULT 0,
    cost              bigint  NOT NULL DEFAULT 0
  );
  CREATE INDEX jobs_request ON jobs (request_id);
  CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'processing';

  CREATE TABLE workers (
    id                   text    PRIMARY KEY,
    name                 text    NOT NULL,
    kind                 text    NOT NULL,
    owner_id             bigint  NOT NULL,
    created_at           bigint  NOT NULL,
    last_check_in        bigint  NOT NULL,
    online_since         bigint  NOT NULL,
    uptime_credited_at   bigint  NOT NULL,
    profile              json    NOT NULL,
    maintenance          boolean NOT NULL DEFAULT false,
    maintenance_message  text,
    paused               boolean NOT NULL DEFAULT false,
    info                 text,
    speed_samples        double precision[] NOT NULL DEFAULT '{}',
    recent_aborts        bigint[] NOT NULL DEFAULT '{}',
    requests_fulfilled   bigint  NOT NULL DEFAULT 0,
    kudos_generated      bigint  NOT NULL DEFAULT 0,
    kudos_uptime         bigint  NOT NULL DEFAULT 0,
    things_generated     double precision NOT NULL DEFAULT 0,
    uncompleted_jobs     bigint  NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX workers_name ON workers (lower(name));
  CREATE INDEX workers_owner ON workers (owner_id);

  -- Completed jobs per minute (span 60000), hour (3600000) or archive (span 0) bucket, spread over a few
  -- shards so concurrent settles of one model do not wait on one row.
  CREATE TABLE generation_stats (
    kind    text    NOT NULL,
    span    bigint  NOT NULL,
    start   bigint  NOT NULL,
    model   text    NOT NULL,
    shard   integer NOT NULL,
    jobs    bigint  NOT NULL,
    things  double precision NOT NULL,
    PRIMARY KEY (kind, span, start, model, shard)
  );

  -- Deployment-wide values every node must share (secrets generated by the first node).
  CREATE TABLE settings (
    key    text PRIMARY KEY,
    value  text NOT NULL
  );
  `,
  // 2: the stamp of an account resting exactly on its floor (see money.ts)
  `
  ALTER TABLE account_money ADD COLUMN at_floor bigint;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** `hashtext('hordekit migrations')`, fixed: the advisory lock the nodes take while migrating. */
const MIGRATION_LOCK = 0x686b6d67;

/** Brings the schema to the latest version inside the caller's transaction. Safe on every start. */
export async function migrate(db: Db, schema: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await db.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const { rows } = await db.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  );
  const current = rows[0]?.version ?? 0;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this hordekit (${MIGRATIONS.length}); upgrade hordekit`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    await db.query(MIGRATIONS[version]!);
    await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
  }
}
