/**
 * Leader election through a PostgreSQL advisory lock, so that of several server nodes on one database
 * exactly one runs the sweeps. Each node holds one dedicated connection and, while it is a follower,
 * tries `pg_try_advisory_lock` every `retryMs`; while it is the leader it checks every `retryMs` that the
 * session holding the lock is still alive (`SELECT 1`).
 *
 * The lock is session-level: PostgreSQL releases it when the holder's connection ends. So when a leader
 * is SIGKILLed, its sockets close, its backend exits, and another node takes the lock on its next try —
 * within about `retryMs`, plus however long the server takes to notice a dead peer when the machine
 * itself vanished (TCP keep-alive is on for that case). A node that loses its connection (any query
 * error, an `error` or `end` from the client) stops being the leader at once, reconnects with backoff
 * (two rounds at first, so that a healthy follower wins the lock before it), and competes again.
 *
 * Two leaders can overlap only while a cut-off node has not yet noticed that its session is gone (at
 * most about `retryMs` plus the query timeout); the sweeps are transactional, so running one twice in
 * that window is harmless.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Leadership } from '../../leadership.js';

export type { Leadership } from '../../leadership.js';

/** 'hordekit' in ASCII, as a signed 64-bit lock key: the lock the sweeps leader holds. */
export const SWEEPS_LOCK_KEY = 0x686f7264656b6974n;

const MAX_BACKOFF_MS = 30_000;

export interface LeaderElectionOptions {
  /** The database every node shares. */
  connectionString: string;
  /** The advisory lock key; nodes electing the same leader use the same key. @default SWEEPS_LOCK_KEY */
  lockKey?: bigint | number;
  /** How often a follower tries the lock and a leader checks its session, in ms. @default 1000 */
  retryMs?: number;
  /** Where connection failures are reported. @default silent */
  logger?: Logger;
  /** Called when this node becomes the leader (`true`) or stops being it (`false`). @default none */
  onChange?: (leader: boolean) => void;
}

export interface LeaderElection extends Leadership {
  /** Settles once the first attempt at the lock is done (won, lost, or failed to connect). */
  ready: Promise<void>;
  /** Releases the lock if held and closes the connection. */
  stop(): Promise<void>;
  /** The backend process id of the election's connection, for tests and diagnostics. */
  pid(): number | undefined;
}

export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const lockKey = String(options.lockKey ?? SWEEPS_LOCK_KEY);
  const retryMs = options.retryMs ?? 1000;
  const logger = options.logger;
  let client: pg.Client | undefined;
  let backendPid: number | undefined;
  let leader = false;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let attempt: Promise<void> | undefined;

  function setLeader(value: boolean) {
    if (leader === value) return;
    leader = value;
    logger?.info(
      { leader: value, pid: backendPid },
      value ? 'became the sweeps leader' : 'no longer the leader',
    );
    options.onChange?.(value);
  }

  /** Forgets the connection (and with it the lock, which PostgreSQL releases when the session ends). */
  function dropConnection(lost: pg.Client) {
    if (client !== lost) return;
    client = undefined;
    backendPid = undefined;
    setLeader(false);
    lost.end().catch(() => {});
  }

  async function connect(): Promise<pg.Client> {
    const fresh = new pg.Client({
      connectionString: options.connectionString,
      keepAlive: true,
      application_name: 'hordekit-leader',
      connectionTimeoutMillis: Math.max(5000, retryMs * 5),
      query_timeout: Math.max(5000, retryMs * 5),
    });
    fresh.on('error', (error) => {
      logger?.warn({ err: error }, 'leader election connection failed');
      dropConnection(fresh);
    });
    fresh.on('end', () => dropConnection(fresh));
    try {
      await fresh.connect();
      const { rows } = await fresh.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      backendPid = rows[0]?.pid;
    } catch (error) {
      fresh.end().catch(() => {});
      throw error;
    }
    client = fresh;
    return fresh;
  }

  async function tryOnce() {
    let current = client;
    try {
      current ??= await connect();
      if (leader) {
        await current.query('SELECT 1');
      } else {
        const { rows } = await current.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1::bigint) AS locked',
          [lockKey],
        );
        if (rows[0]?.locked && client === current && !stopped) setLeader(true);
      }
      failures = 0;
    } catch (error) {
      failures += 1;
      logger?.warn({ err: error, failures }, 'leader election attempt failed');
      if (current) dropConnection(current);
    }
  }

  function schedule() {
    if (stopped) return;
    // After a failure wait at least two rounds: a healthy follower, trying every round, takes the lock
    // first, rather than the node whose connection just broke.
    const delay = failures === 0 ? retryMs : Math.min(retryMs * 2 ** failures, MAX_BACKOFF_MS);
    timer = setTimeout(run, delay);
  }

  function run() {
    attempt = tryOnce().finally(() => {
      attempt = undefined;
      schedule();
    });
  }

  run();
  const ready = attempt ?? Promise.resolve();

  return {
    isLeader: () => leader,
    ready,
    pid: () => backendPid,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await attempt;
      const current = client;
      if (!current) return;
      if (leader) {
        await current.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]).catch((error) => {
          logger?.warn({ err: error }, 'could not release the leader lock; closing the session releases it');
        });
      }
      client = undefined;
      backendPid = undefined;
      setLeader(false);
      await current.end().catch(() => {});
    },
  };
}
