/**
 * The embedded default driver: SQLite through better-sqlite3, in WAL mode with `synchronous=NORMAL`
 * (every committed operation survives a crash of the process), hot state in memory, written through.
 *
 * @example
 * const store = await createSqliteStore({ path: './data/horde.db' });
 * const horde = await createHorde({ store });
 */
import Database from 'better-sqlite3';
import { HordeError } from '../../errors.js';
import type {
  AccountRecord,
  CandidatePage,
  CandidateQuery,
  HordeStore,
  JournalEntry,
  LedgerTotals,
  QueuePosition,
  QueueSummary,
  RequestKind,
} from '../../storage/types.js';
import * as accounts from './accounts.js';
import { SqliteKeyvStore } from './keyv.js';
import * as requests from './requests.js';
import { type JournalRow, journalFromRow } from './rows.js';
import { migrate } from './schema.js';
import { identityKey, loadState, type SqliteState, snapshot } from './state.js';
import * as workers from './workers.js';

export { SqliteKeyvStore } from './keyv.js';

export interface SqliteStoreOptions {
  /** Database file, or `':memory:'` for a throw-away horde. */
  path: string;
  /**
   * Worker check-ins (every pop) are written at most this often unless something changed; memory always
   * has the latest. @default 30_000
   */
  checkInWriteIntervalMs?: number;
}

export interface SqliteStore extends HordeStore {
  /** A keyv store adapter on the same connection, for soft state. */
  keyvStore(): SqliteKeyvStore;
  /** The underlying connection (for tools and tests; do not write to horde tables). */
  readonly database: Database.Database;
}

/** Opens (and migrates) the database, then rebuilds the in-memory state from it. */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const db = new Database(options.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    const state = loadState(db, options.checkInWriteIntervalMs ?? 30_000);
    return new SqliteHordeStore(state);
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteHordeStore implements SqliteStore {
  readonly driver = 'sqlite';
  private closed = false;
  private keyv: SqliteKeyvStore | undefined;

  constructor(private readonly s: SqliteState) {}

  get database(): Database.Database {
    return this.s.db;
  }

  keyvStore(): SqliteKeyvStore {
    this.keyv ??= new SqliteKeyvStore(this.s.db);
    return this.keyv;
  }

  /** Runs a synchronous driver operation, turning SQLite failures into a `StorageError`. */
  private run<T>(fn: (s: SqliteState) => T): Promise<T> {
    if (this.closed) return Promise.reject(new HordeError('StorageError', 'The horde store is closed.'));
    try {
      return Promise.resolve(fn(this.s));
    } catch (error) {
      if (error instanceof HordeError) return Promise.reject(error);
      return Promise.reject(
        new HordeError('StorageError', '[sqlite] a storage operation failed.', { cause: error }),
      );
    }
  }

  // accounts
  createAccount = (input: Parameters<HordeStore['createAccount']>[0]) =>
    this.run((s) => accounts.createAccount(s, input));
  getAccount = (id: number) => this.run((s) => maybe(s.accounts.get(id)));
  getAccountByKeyHash = (hash: string) =>
    this.run((s) => {
      const id = s.accountIdByKeyHash.get(hash);
      return id === undefined ? undefined : maybe(s.accounts.get(id));
    });
  getAccountByUsername = (username: string) =>
    this.run((s) => {
      const wanted = username.toLowerCase();
      return [...s.accounts.values()].filter((a) => a.username.toLowerCase() === wanted).map(snapshot);
    });
  listAccounts = (options: { offset: number; limit: number; sort: 'kudos' | 'age' }) =>
    this.run((s) => {
      const all = [...s.accounts.values()];
      all.sort(
        options.sort === 'kudos' ? (a, b) => b.balance - a.balance || a.id - b.id : (a, b) => a.id - b.id,
      );
      return all.slice(options.offset, options.offset + options.limit).map(snapshot);
    });
  updateAccount = (id: number, patch: Parameters<HordeStore['updateAccount']>[1]) =>
    this.run((s) => accounts.updateAccount(s, id, patch));
  setApiKeyHash = (id: number, hash: string | null) => this.run((s) => accounts.setApiKeyHash(s, id, hash));
  linkIdentity = (accountId: number, provider: string, externalId: string) =>
    this.run((s) => accounts.linkIdentity(s, accountId, provider, externalId));
  getAccountByIdentity = (provider: string, externalId: string) =>
    this.run((s) => {
      const id = s.identities.get(identityKey(provider, externalId));
      return id === undefined ? undefined : maybe(s.accounts.get(id));
    });

  // ledger
  adjustBalance = (op: Parameters<HordeStore['adjustBalance']>[0]) =>
    this.run((s) => accounts.adjustBalance(s, op));
  transfer = (op: Parameters<HordeStore['transfer']>[0]) => this.run((s) => accounts.transfer(s, op));
  readJournal = (options: { afterId?: number; limit?: number; accountId?: number } = {}) =>
    this.run((s): JournalEntry[] => {
      const rows =
        options.accountId === undefined
          ? s.db
              .prepare('SELECT * FROM journal WHERE id > ? ORDER BY id LIMIT ?')
              .all(options.afterId ?? 0, options.limit ?? -1)
          : s.db
              .prepare('SELECT * FROM journal WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?')
              .all(options.accountId, options.afterId ?? 0, options.limit ?? -1);
      return (rows as JournalRow[]).map(journalFromRow);
    });
  ledgerTotals = () =>
    this.run((s): LedgerTotals => {
      const row = s.db
        .prepare(
          `SELECT
             coalesce(sum(CASE WHEN balance_delta + escrow_delta > 0 AND kind NOT IN ('transfer', 'escrow') THEN balance_delta + escrow_delta END), 0) AS minted,
             coalesce(sum(CASE WHEN balance_delta + escrow_delta < 0 AND kind NOT IN ('transfer', 'escrow') THEN -(balance_delta + escrow_delta) END), 0) AS burnt
           FROM journal`,
        )
        .get() as { minted: number; burnt: number };
      let balances = 0;
      let escrow = 0;
      for (const a of s.accounts.values()) {
        balances += a.balance;
        escrow += a.escrow;
      }
      return { minted: row.minted, burnt: row.burnt, balances, escrow };
    });

  // requests and jobs
  enqueueRequest = (op: Parameters<HordeStore['enqueueRequest']>[0]) =>
    this.run((s) => requests.enqueueRequest(s, op));
  getRequest = (id: string) => this.run((s) => requests.getRequest(s, id));
  listRequestJobs = (requestId: string) => this.run((s) => requests.listRequestJobs(s, requestId));
  listAccountRequests = (accountId: number) => this.run((s) => requests.listAccountRequests(s, accountId));
  findCandidates = (query: CandidateQuery) => this.run((s): CandidatePage => s.queue.candidates(query));
  claimJobs = (op: Parameters<HordeStore['claimJobs']>[0]) => this.run((s) => requests.claimJobs(s, op));
  getJob = (id: string) => this.run((s) => requests.getJob(s, id));
  completeJob = (op: Parameters<HordeStore['completeJob']>[0]) =>
    this.run((s) => requests.completeJob(s, op));
  failJob = (op: Parameters<HordeStore['failJob']>[0]) => this.run((s) => requests.failJob(s, op));
  listExpiredLeases = (now: number, limit: number) =>
    this.run((s) => requests.listExpiredLeases(s, now, limit));
  cancelRequest = (id: string, now: number) => this.run((s) => requests.cancelRequest(s, id, now));
  expireRequests = (now: number, limit: number) => this.run((s) => requests.expireRequests(s, now, limit));
  queuePosition = (requestId: string) =>
    this.run((s): QueuePosition | undefined => {
      if (!s.requests.has(requestId)) return undefined;
      return s.queue.position(requestId) ?? { position: 0, thingsAhead: 0, jobsAhead: 0 };
    });
  queueSummary = (kind: RequestKind) => this.run((s): QueueSummary => s.queue.summary(kind));

  // workers
  checkInWorker = (op: Parameters<HordeStore['checkInWorker']>[0]) =>
    this.run((s) => workers.checkInWorker(s, op));
  getWorker = (id: string) => this.run((s) => maybe(s.workers.get(id)));
  getWorkerByName = (name: string) => this.run((s) => workers.getWorkerByName(s, name));
  listWorkers = (query?: Parameters<HordeStore['listWorkers']>[0]) =>
    this.run((s) => workers.listWorkers(s, query));
  updateWorker = (id: string, patch: Parameters<HordeStore['updateWorker']>[1]) =>
    this.run((s) => workers.updateWorker(s, id, patch));
  deleteWorker = (id: string) => this.run((s) => workers.deleteWorker(s, id));
  creditUptime = (op: Parameters<HordeStore['creditUptime']>[0]) =>
    this.run((s) => workers.creditUptime(s, op));

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.s.db.close();
  }
}

function maybe<T extends object>(record: T | undefined): T | undefined {
  return record ? snapshot(record) : undefined;
}

export type { AccountRecord };
