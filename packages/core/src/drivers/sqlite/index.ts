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
import { type Checkpointer, startCheckpointer } from './checkpointer.js';
import { readGenerationStats } from './generation-stats.js';
import { SqliteKeyvStore } from './keyv.js';
import * as requests from './requests.js';
import { type JournalRow, journalFromRow } from './rows.js';
import { migrate } from './schema.js';
import { identityKey, loadState, type SqliteState, snapshot } from './state.js';
import * as workers from './workers.js';
import { flushCheckIns } from './workers.js';

export { type Checkpointer, startCheckpointer } from './checkpointer.js';
export { SqliteKeyvStore } from './keyv.js';

export interface SqliteStoreOptions {
  /** Database file, or `':memory:'` for a throw-away horde. */
  path: string;
  /**
   * Worker check-ins (every pop) are written at most this often unless something changed; memory always
   * has the latest. @default 30_000
   */
  checkInWriteIntervalMs?: number;
  /**
   * Checkpoint (copy the write-ahead log into the database file and sync it) once the log holds this many
   * pages. With `backgroundCheckpoints` the thread checkpoints long before; this is the main connection's
   * own threshold, multiplied by 10 as a safety net. A larger value checkpoints less often; with
   * `synchronous=NORMAL` a power loss (not a process crash) can undo writes not yet checkpointed.
   * @default 1000 (SQLite's own)
   */
  walCheckpointPages?: number;
  /**
   * Run checkpoints on a worker thread every `backgroundCheckpointMs`, so no call pays for the log's sync
   * (file databases only). @default true
   */
  backgroundCheckpoints?: boolean;
  /** @default 100 */
  backgroundCheckpointMs?: number;
  /**
   * Commit the writes of operations that run in the same turn of the event loop together (group commit):
   * each operation still resolves only after its writes are committed, but concurrent callers share one
   * commit, so pages they all touch (journal, indexes, hot accounts) go to the log once. Off commits every
   * operation on its own. @default true
   */
  groupCommit?: boolean;
  /**
   * An expired request stays readable (`state: 'expired'`, without its results) this long, then its row is
   * deleted by a later expiry sweep. @default 86_400_000 (a day)
   */
  expiredRetentionMs?: number;
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
    const onDisk = options.path !== ':memory:' && options.path !== '';
    const background = onDisk && (options.backgroundCheckpoints ?? true);
    const checkpointPages = Math.max(1, Math.floor(options.walCheckpointPages ?? 1000));
    db.pragma(`wal_autocheckpoint = ${background ? checkpointPages * 10 : checkpointPages}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    const checkInWriteIntervalMs = options.checkInWriteIntervalMs ?? 30_000;
    const expiredRetentionMs = options.expiredRetentionMs ?? 86_400_000;
    const state = loadState(db, checkInWriteIntervalMs, expiredRetentionMs);
    const checkpointer = background
      ? startCheckpointer(options.path, options.backgroundCheckpointMs ?? 100)
      : undefined;
    return new SqliteHordeStore(
      state,
      () => loadState(db, checkInWriteIntervalMs, expiredRetentionMs),
      options.groupCommit ?? true,
      checkpointer,
    );
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteHordeStore implements SqliteStore {
  readonly driver = 'sqlite';
  private closed = false;
  private keyv: SqliteKeyvStore | undefined;

  /** The open group commit: writes since `BEGIN`, resolved together once `COMMIT` succeeds. */
  private batch: { done: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | null = null;
  /** Whether the operation running now has written. */
  private wrote = false;

  constructor(
    private s: SqliteState,
    private readonly reload: () => SqliteState,
    private readonly groupCommit: boolean,
    private readonly checkpointer: Checkpointer | undefined,
  ) {
    this.s.beforeWrite = () => this.beforeWrite();
  }

  get database(): Database.Database {
    return this.s.db;
  }

  keyvStore(): SqliteKeyvStore {
    this.keyv ??= new SqliteKeyvStore(this.s.db);
    return this.keyv;
  }

  /**
   * Runs a synchronous read, turning SQLite failures into a `StorageError`. A read may see writes of the
   * open group commit; their callers are not answered until it commits, so nothing outside depends on them.
   */
  private run<T>(fn: (s: SqliteState) => T): Promise<T> {
    if (this.closed) return Promise.reject(new HordeError('StorageError', 'The horde store is closed.'));
    try {
      return Promise.resolve(fn(this.s));
    } catch (error) {
      return Promise.reject(storageError(error));
    }
  }

  /**
   * Runs a synchronous operation that may write. Its writes join the open group commit (opened by the
   * first write of a turn of the event loop; each operation's writes in their own savepoint, so a failure
   * undoes only them), and it resolves once that commit is durable — never before, so nobody acts on
   * writes a crash could undo. An operation that wrote nothing resolves at once.
   */
  private write<T>(fn: (s: SqliteState) => T): Promise<T> {
    if (this.closed) return Promise.reject(new HordeError('StorageError', 'The horde store is closed.'));
    this.wrote = false;
    try {
      const result = fn(this.s);
      const batch = this.batch;
      return this.wrote && batch ? batch.done.then(() => result) : Promise.resolve(result);
    } catch (error) {
      const batch = this.batch;
      // Writes made before the failure were undone by their savepoint; report after the commit anyway,
      // so errors and results keep their order.
      return this.wrote && batch
        ? batch.done.then(() => Promise.reject(storageError(error)))
        : Promise.reject(storageError(error));
    }
  }

  /** Hooked into every write (`SqliteState.beforeWrite`): opens the group commit if none is open. */
  private beforeWrite(): void {
    this.wrote = true;
    if (!this.groupCommit || this.batch) return;
    this.s.db.exec('BEGIN');
    this.openBatch();
  }

  private openBatch() {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Operations observe `done` through their own chains; this keeps a failed commit from also being
    // reported as an unhandled rejection of the batch itself.
    done.catch(() => {});
    const batch = { done, resolve, reject };
    this.batch = batch;
    setImmediate(() => this.commit());
    return batch;
  }

  /** Commits the open batch. If the commit fails, memory is rebuilt from what the database kept. */
  private commit(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = null;
    try {
      this.s.db.exec('COMMIT');
      batch.resolve();
    } catch (error) {
      try {
        if (this.s.db.inTransaction) this.s.db.exec('ROLLBACK');
        this.s = this.reload();
        this.s.beforeWrite = () => this.beforeWrite();
      } catch {
        // The database is unusable; every later operation fails on its own.
      }
      batch.reject(storageError(error));
    }
  }

  // accounts
  createAccount = (input: Parameters<HordeStore['createAccount']>[0]) =>
    this.write((s) => accounts.createAccount(s, input));
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
    this.write((s) => accounts.updateAccount(s, id, patch));
  setApiKeyHash = (id: number, hash: string | null) => this.write((s) => accounts.setApiKeyHash(s, id, hash));
  linkIdentity = (accountId: number, provider: string, externalId: string) =>
    this.write((s) => accounts.linkIdentity(s, accountId, provider, externalId));
  getAccountByIdentity = (provider: string, externalId: string) =>
    this.run((s) => {
      const id = s.identities.get(identityKey(provider, externalId));
      return id === undefined ? undefined : maybe(s.accounts.get(id));
    });

  // ledger
  adjustBalance = (op: Parameters<HordeStore['adjustBalance']>[0]) =>
    this.write((s) => accounts.adjustBalance(s, op));
  transfer = (op: Parameters<HordeStore['transfer']>[0]) => this.write((s) => accounts.transfer(s, op));
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
    this.write((s) => requests.enqueueRequest(s, op));
  getRequest = (id: string) => this.run((s) => requests.getRequest(s, id));
  listRequestJobs = (requestId: string) => this.run((s) => requests.listRequestJobs(s, requestId));
  listAccountRequests = (accountId: number) => this.run((s) => requests.listAccountRequests(s, accountId));
  findCandidates = (query: CandidateQuery) =>
    this.run((s): CandidatePage => {
      const page = s.queue.candidates(query);
      return { ...page, candidates: page.candidates.map(snapshot) };
    });
  claimJobs = (op: Parameters<HordeStore['claimJobs']>[0]) => this.write((s) => requests.claimJobs(s, op));
  getJob = (id: string) => this.run((s) => requests.getJob(s, id));
  completeJob = (op: Parameters<HordeStore['completeJob']>[0]) =>
    this.write((s) => requests.completeJob(s, op));
  failJob = (op: Parameters<HordeStore['failJob']>[0]) => this.write((s) => requests.failJob(s, op));
  listExpiredLeases = (now: number, limit: number) =>
    this.run((s) => requests.listExpiredLeases(s, now, limit));
  cancelRequest = (id: string, now: number) => this.write((s) => requests.cancelRequest(s, id, now));
  expireRequests = (now: number, limit: number) => this.write((s) => requests.expireRequests(s, now, limit));
  queuePosition = (requestId: string) =>
    this.run((s): QueuePosition | undefined => {
      if (!s.requests.has(requestId)) return undefined;
      return s.queue.position(requestId) ?? { position: 0, thingsAhead: 0, jobsAhead: 0 };
    });
  queueSummary = (kind: RequestKind) => this.run((s): QueueSummary => s.queue.summary(kind));
  generationStats = (kind: RequestKind, now: number) => this.run((s) => readGenerationStats(s, kind, now));

  // workers
  checkInWorker = (op: Parameters<HordeStore['checkInWorker']>[0]) =>
    this.write((s) => workers.checkInWorker(s, op));
  getWorker = (id: string) => this.run((s) => maybe(s.workers.get(id)));
  getWorkerByName = (name: string) => this.run((s) => workers.getWorkerByName(s, name));
  listWorkers = (query?: Parameters<HordeStore['listWorkers']>[0]) =>
    this.run((s) => workers.listWorkers(s, query));
  updateWorker = (id: string, patch: Parameters<HordeStore['updateWorker']>[1]) =>
    this.write((s) => workers.updateWorker(s, id, patch));
  deleteWorker = (id: string) => this.write((s) => workers.deleteWorker(s, id));
  creditUptime = (op: Parameters<HordeStore['creditUptime']>[0]) =>
    this.write((s) => workers.creditUptime(s, op));

  async close(): Promise<void> {
    if (this.closed) return;
    // No new operation starts from here; the open batch commits now.
    this.closed = true;
    flushCheckIns(this.s);
    const pending = this.batch?.done;
    this.commit();
    await pending?.catch(() => undefined);
    await this.checkpointer?.stop();
    this.s.db.close();
  }
}

function storageError(error: unknown): HordeError {
  if (error instanceof HordeError) return error;
  return new HordeError('StorageError', '[sqlite] a storage operation failed.', { cause: error });
}

function maybe<T extends object>(record: T | undefined): T | undefined {
  return record ? snapshot(record) : undefined;
}

export type { AccountRecord };
