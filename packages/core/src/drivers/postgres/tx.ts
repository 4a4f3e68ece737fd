/**
 * Connections and transactions for the PostgreSQL driver. Every store operation is one transaction at
 * READ COMMITTED with explicit row locks; a transaction PostgreSQL aborts to break a deadlock or a
 * serialization conflict, or one that lost a race on a unique key the operation re-checks, is run again
 * from the start (a few times, with jitter) — the caller sees one answer.
 */
import pg from 'pg';
import { HordeError } from '../../errors.js';

/** bigint columns (ids, centikudos, epoch milliseconds) come back as numbers: all stay below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PoolOptions {
  connectionString: string;
  /** Schema for every table (tests give each store a schema of its own). @default 'public' */
  schema?: string;
  /** @default 10 */
  max?: number;
}

export function createPool(options: PoolOptions): pg.Pool {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    types,
    keepAlive: true,
    options: `-c search_path=${schema}`,
  });
  // An idle client whose server went away emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  return pool;
}

export type Db = pg.PoolClient;

/** SQLSTATEs worth running the whole transaction again for. */
const RETRYABLE = new Set(['40001', '40P01']);

export class Retry extends Error {}

/**
 * Runs `work` in one transaction and returns its result. Retries on deadlock and serialization failures,
 * and when `work` throws `Retry` (it lost a race it knows how to settle by looking again).
 */
export async function transaction<T>(pool: pg.Pool, work: (db: Db) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const db = await connect(pool);
    let broken = false;
    try {
      await db.query('BEGIN');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await db.query('ROLLBACK');
      } catch {
        broken = true;
      }
      const code = (error as { code?: string }).code;
      const retry = error instanceof Retry || (code !== undefined && RETRYABLE.has(code));
      if (!retry || attempt >= attempts) throw storageError(error);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    } finally {
      db.release(broken);
    }
  }
}

/** One statement outside a transaction. */
export async function query<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values?: unknown[],
): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (error) {
    throw storageError(error);
  }
}

async function connect(pool: pg.Pool): Promise<Db> {
  try {
    return await pool.connect();
  } catch (error) {
    throw storageError(error);
  }
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export function storageError(error: unknown): HordeError {
  if (error instanceof HordeError) return error;
  if (error instanceof Retry)
    return new HordeError('StorageError', '[postgres] too much contention; try again.');
  return new HordeError('StorageError', '[postgres] a storage operation failed.', { cause: error });
}

/**
 * Runs `statements` (creating a table and its indexes, say) in one transaction that first takes the
 * transaction-scoped advisory lock `lockKey`, so nodes starting at once do it one after the other:
 * `CREATE ... IF NOT EXISTS` alone can still fail with a unique violation on the catalog when two sessions
 * race. Rolls back on error and rethrows PostgreSQL's error as it is.
 */
export async function createOnce(pool: pg.Pool, lockKey: bigint, statements: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(lockKey)]);
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Runs reads on one pooled connection, without a transaction (each statement sees committed data). */
export async function withClient<T>(pool: pg.Pool, work: (db: Db) => Promise<T>): Promise<T> {
  const db = await connect(pool);
  try {
    return await work(db);
  } catch (error) {
    throw storageError(error);
  } finally {
    db.release();
  }
}
