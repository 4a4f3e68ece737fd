/**
 * The scale-out driver: PostgreSQL as the system of record, shared by any number of server nodes. Nothing
 * lives in a node's memory — every operation is one transaction (see `tx.ts`), so two nodes never hand one
 * job to two workers, settle a job twice or spend the same kudos twice:
 *
 * - claims lock the request row with `FOR UPDATE SKIP LOCKED` (pops never wait behind each other);
 * - a submit locks its job row first: the first one settles, later ones see `done`;
 * - money sits on per-account stripes (`money.ts`), so concurrent charges to one account — the
 *   anonymous account above all — do not queue behind one row;
 * - migrations run at start-up under an advisory lock (`schema.ts`).
 *
 * @example
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL! });
 * const horde = await createHorde({ store });
 */
import type pg from 'pg';
import { HordeError } from '../../errors.js';
import type {
  CandidateQuery,
  HordeStore,
  JournalEntry,
  LedgerTotals,
  RequestKind,
} from '../../storage/types.js';
import * as accounts from './accounts.js';
import * as expiry from './expiry.js';
import { ensureKvTable, PostgresKeyvStore } from './keyv.js';
import * as queue from './queue.js';
import * as requests from './requests.js';
import { ACCOUNT_SELECT, accountFromRow, journalFromRow } from './rows.js';
import { migrate } from './schema.js';
import * as settle from './settle.js';
import { foldStats, readGenerationStats } from './stats.js';
import { createPool, type Db, query, transaction, withClient } from './tx.js';
import * as workers from './workers.js';

export { PostgresKeyvStore } from './keyv.js';
export {
  type LeaderElection,
  type LeaderElectionOptions,
  SWEEPS_LOCK_KEY,
  startLeaderElection,
} from './leader.js';
export { SCHEMA_VERSION } from './schema.js';
export { createOnce, createPool } from './tx.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /** Schema holding the tables (created if missing). @default 'public' */
  schema?: string;
  /** Connections this node keeps open. @default 10 */
  poolSize?: number;
  /**
   * Money rows per account (see `money.ts`): how many charges to one account can proceed at once.
   * Applies to accounts created from now on. @default 8
   */
  stripes?: number;
  /** An expired request stays readable this long, then a later sweep deletes it. @default 86_400_000 */
  expiredRetentionMs?: number;
  /**
   * How long the grouped queue behind a pop's skip counts is reused (skip counts only; candidates are
   * always read fresh). @default 1000
   */
  skipCountsCacheMs?: number;
}

export interface PostgresStore extends HordeStore {
  readonly pool: pg.Pool;
  /** A keyv store adapter on the same database, for soft state that must outlive Redis (chat settings). */
  keyvStore(): PostgresKeyvStore;
  /** A deployment-wide value (`settings` table): the first node to ask with `create` sets it. */
  sharedSetting(key: string, create: () => string): Promise<string>;
  /**
   * Runs `work` while holding a deployment-wide lock named `name` (a session advisory lock): start-up
   * steps that must happen once however many nodes start at once (creating the administrator).
   */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const schema = options.schema ?? 'public';
  const pool = createPool({ connectionString: options.connectionString, schema, max: options.poolSize });
  try {
    await transaction(pool, (db) => migrate(db, schema));
    await ensureKvTable(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresHordeStore(
    pool,
    options.stripes ?? 8,
    options.expiredRetentionMs ?? 86_400_000,
    options.skipCountsCacheMs ?? 1000,
  );
}

class PostgresHordeStore implements PostgresStore {
  readonly driver = 'postgres';
  private closed = false;
  private keyv: PostgresKeyvStore | undefined;
  private readonly skipGroups: queue.SkipGroups;

  constructor(
    readonly pool: pg.Pool,
    private readonly stripes: number,
    private readonly expiredRetentionMs: number,
    skipCacheMs: number,
  ) {
    this.skipGroups = new queue.SkipGroups(skipCacheMs);
  }

  keyvStore(): PostgresKeyvStore {
    this.keyv ??= new PostgresKeyvStore(this.pool);
    return this.keyv;
  }

  async sharedSetting(key: string, create: () => string): Promise<string> {
    return this.tx(async (db) => {
      await db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        key,
        create(),
      ]);
      const { rows } = await db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
      return rows[0]!.value;
    });
  }

  async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const lock = await this.pool.connect();
    try {
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
      try {
        return await work();
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
      }
    } finally {
      lock.release();
    }
  }

  private tx<T>(work: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new HordeError('StorageError', 'The horde store is closed.'));
    return transaction(this.pool, work);
  }

  /**
   * Reads, and operations that are one statement (atomic on its own): on one pooled connection, without
   * the round trips of a transaction. Each statement sees what was committed when it started.
   */
  private single<T>(work: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new HordeError('StorageError', 'The horde store is closed.'));
    return withClient(this.pool, work);
  }

  // accounts
  createAccount = (input: Parameters<HordeStore['createAccount']>[0]) =>
    this.tx((db) => accounts.createAccount(db, input, this.stripes));
  getAccount = (id: number) => this.single((db) => accounts.readAccount(db, id));
  getAccountByKeyHash = async (hash: string) => {
    const rows = await this.rows(`${ACCOUNT_SELECT} WHERE a.api_key_hash = $1`, [hash]);
    return rows[0] ? accountFromRow(rows[0]) : undefined;
  };
  getAccountByUsername = async (username: string) =>
    (await this.rows(`${ACCOUNT_SELECT} WHERE lower(a.username) = lower($1) ORDER BY a.id`, [username])).map(
      accountFromRow,
    );
  listAccounts = async (options: { offset: number; limit: number; sort: 'kudos' | 'age' }) =>
    (
      await this.rows(
        `${ACCOUNT_SELECT} ORDER BY ${options.sort === 'kudos' ? 's.balance DESC, a.id' : 'a.id'} OFFSET $1 LIMIT $2`,
        [options.offset, options.limit],
      )
    ).map(accountFromRow);
  updateAccount = (id: number, patch: Parameters<HordeStore['updateAccount']>[1]) =>
    this.tx((db) => accounts.updateAccount(db, id, patch));
  setApiKeyHash = (id: number, hash: string | null) => this.tx((db) => accounts.setApiKeyHash(db, id, hash));
  linkIdentity = (accountId: number, provider: string, externalId: string) =>
    this.tx((db) => accounts.linkIdentity(db, accountId, provider, externalId));
  getAccountByIdentity = async (provider: string, externalId: string) => {
    const rows = await this.rows(
      `${ACCOUNT_SELECT} JOIN identities i ON i.account_id = a.id WHERE i.provider = $1 AND i.external_id = $2`,
      [provider, externalId],
    );
    return rows[0] ? accountFromRow(rows[0]) : undefined;
  };

  // ledger
  adjustBalance = (op: Parameters<HordeStore['adjustBalance']>[0]) =>
    this.tx((db) => accounts.adjustBalance(db, op));
  transfer = (op: Parameters<HordeStore['transfer']>[0]) => this.tx((db) => accounts.transfer(db, op));
  readJournal = async (
    options: { afterId?: number; limit?: number; accountId?: number } = {},
  ): Promise<JournalEntry[]> =>
    (
      await this.rows(
        `SELECT * FROM journal WHERE ($1::bigint IS NULL OR account_id = $1) AND id > $2 ORDER BY id LIMIT $3`,
        [options.accountId ?? null, options.afterId ?? 0, options.limit ?? null],
      )
    ).map(journalFromRow);
  ledgerTotals = async (): Promise<LedgerTotals> => {
    const [row] = await this.rows(
      `SELECT
         coalesce(sum(CASE WHEN balance_delta + escrow_delta > 0 AND kind NOT IN ('transfer', 'escrow') THEN balance_delta + escrow_delta END), 0) AS minted,
         coalesce(sum(CASE WHEN balance_delta + escrow_delta < 0 AND kind NOT IN ('transfer', 'escrow') THEN -(balance_delta + escrow_delta) END), 0) AS burnt,
         (SELECT coalesce(sum(balance), 0) FROM account_money) AS balances,
         (SELECT coalesce(sum(escrow), 0) FROM account_money) AS escrow
       FROM journal`,
    );
    return {
      minted: Number(row!.minted),
      burnt: Number(row!.burnt),
      balances: Number(row!.balances),
      escrow: Number(row!.escrow),
    };
  };

  // requests and jobs
  enqueueRequest = (op: Parameters<HordeStore['enqueueRequest']>[0]) =>
    this.tx((db) => requests.enqueueRequest(db, op));
  getRequest = (id: string) => this.single((db) => requests.getRequest(db, id));
  listRequestJobs = (requestId: string) => this.single((db) => requests.listRequestJobs(db, requestId));
  listAccountRequests = (accountId: number) =>
    this.single((db) => requests.listAccountRequests(db, accountId));
  findCandidates = (q: CandidateQuery) => this.single((db) => queue.findCandidates(db, q, this.skipGroups));
  claimJobs = (op: Parameters<HordeStore['claimJobs']>[0]) => this.single((db) => requests.claimJobs(db, op));
  getJob = (id: string) => this.single((db) => requests.getJob(db, id));
  completeJob = (op: Parameters<HordeStore['completeJob']>[0]) => this.tx((db) => settle.completeJob(db, op));
  failJob = (op: Parameters<HordeStore['failJob']>[0]) => this.tx((db) => settle.failJob(db, op));
  listExpiredLeases = (now: number, limit: number) =>
    this.single((db) => expiry.listExpiredLeases(db, now, limit));
  cancelRequest = (id: string, _now: number) => this.tx((db) => expiry.cancelRequest(db, id));
  expireRequests = (now: number, limit: number) =>
    this.tx(async (db) => {
      const expired = await expiry.expireRequests(db, now, limit, this.expiredRetentionMs);
      await foldStats(db, now);
      return expired;
    });
  queuePosition = (requestId: string) => this.single((db) => queue.queuePosition(db, requestId));
  queueSummary = (kind: RequestKind) => this.single((db) => queue.queueSummary(db, kind));
  generationStats = (kind: RequestKind, now: number) =>
    this.single((db) => readGenerationStats(db, kind, now));

  // workers
  checkInWorker = async (op: Parameters<HordeStore['checkInWorker']>[0]) =>
    (await this.single((db) => workers.quickCheckIn(db, op))) ??
    this.tx((db) => workers.checkInWorker(db, op));
  getWorker = (id: string) => this.single((db) => workers.getWorker(db, id));
  getWorkerByName = (name: string) => this.single((db) => workers.getWorkerByName(db, name));
  listWorkers = (q?: Parameters<HordeStore['listWorkers']>[0]) =>
    this.single((db) => workers.listWorkers(db, q));
  updateWorker = (id: string, patch: Parameters<HordeStore['updateWorker']>[1]) =>
    this.tx((db) => workers.updateWorker(db, id, patch));
  deleteWorker = (id: string) => this.tx((db) => workers.deleteWorker(db, id));
  creditUptime = (op: Parameters<HordeStore['creditUptime']>[0]) =>
    this.tx((db) => workers.creditUptime(db, op));

  private rows(text: string, values?: unknown[]) {
    if (this.closed) return Promise.reject(new HordeError('StorageError', 'The horde store is closed.'));
    return query(this.pool, text, values);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
