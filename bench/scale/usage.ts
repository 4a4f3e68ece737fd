/**
 * What a measured run cost outside the server processes (which report their own CPU): the machine's cores,
 * the load generator (this process), PostgreSQL's processes, Redis, and the database's transactions, WAL
 * and fsyncs. Sampled before and after the measured run; `usageBetween` gives the differences.
 *
 * PostgreSQL's CPU is the sum of utime + stime in `/proc/<pid>/stat` over the postmaster and every
 * process whose parent it is (backends, WAL writer, checkpointer, autovacuum): it needs the server on this
 * machine and readable `/proc` entries, else it is left out. `pg_stat_database` and `pg_stat_wal` are
 * flushed by each backend at most once a second, so their differences shift by up to a second of load at
 * each end (shifts that mostly cancel under steady load); the write-transaction count (transaction ids
 * handed out) and the WAL position are exact.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import type pg from 'pg';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Sample {
  at: number;
  /** /proc/stat: all cores' busy and total ticks. */
  machine: { busy: number; total: number };
  loadGeneratorMs: number;
  postgres?: { userMs: number; systemMs: number };
  redisMs?: number;
  database?: {
    commits: number;
    rollbacks: number;
    /** The transaction id handed to this sample's own query. */
    xid: number;
    walLsn: string;
    walSyncs: number;
    walWrites: number;
    /** `account_money` rows updated (`pg_stat_user_tables`). */
    moneyRowUpdates: number;
  };
}

export interface Usage {
  seconds: number;
  cores: number;
  /** Share of all the machine's cores busy (anything but idle and I/O wait). */
  machineBusy: number;
  loadGeneratorMs: number;
  postgresMs?: number;
  /** The kernel's share of `postgresMs`. */
  postgresSystemMs?: number;
  redisMs?: number;
  /** Committed transactions, read-only ones and single statements included. */
  commits?: number;
  rollbacks?: number;
  /** Transactions that wrote (were given a transaction id): each one's commit waits for a WAL flush. */
  writeTransactions?: number;
  walBytes?: number;
  /** WAL fsyncs (group commit: one may make many commits durable). */
  walSyncs?: number;
  walWrites?: number;
  moneyRowUpdates?: number;
}

function machineTicks(): Sample['machine'] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: total - idle, total };
}

/** utime and stime (ms) of `pid` and of every process whose parent it is. */
function processTreeMs(pid: number): { userMs: number; systemMs: number } | undefined {
  let user = 0;
  let system = 0;
  let found = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const parent = Number(fields[1]);
    if (Number(entry) !== pid && parent !== pid) continue;
    if (Number(entry) === pid) found = true;
    user += Number(fields[11]);
    system += Number(fields[12]);
  }
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
  return found ? { userMs: ms(user), systemMs: ms(system) } : undefined;
}

/** The postmaster's pid: the parent of this connection's backend, if the server runs on this machine. */
export async function postmasterPid(db: pg.Client): Promise<number | undefined> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  try {
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return processTreeMs(parent) === undefined ? undefined : parent;
  } catch {
    return undefined;
  }
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

export interface Probe {
  /** A connection to the measured database, for the database counters. */
  db?: pg.Client;
  postmaster?: number;
  redis?: Redis;
}

export async function sample(probe: Probe): Promise<Sample> {
  const cpu = process.cpuUsage();
  const result: Sample = {
    at: performance.now(),
    machine: machineTicks(),
    loadGeneratorMs: (cpu.user + cpu.system) / 1000,
    postgres: probe.postmaster === undefined ? undefined : processTreeMs(probe.postmaster),
    redisMs: probe.redis ? await redisCpuMs(probe.redis) : undefined,
  };
  if (probe.db) {
    const { rows } = await probe.db.query<Record<string, string>>(
      `SELECT d.xact_commit AS commits, d.xact_rollback AS rollbacks, txid_current() AS xid,
         pg_current_wal_lsn()::text AS lsn, w.wal_sync AS syncs, w.wal_write AS writes,
         (SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables WHERE relname = 'account_money') AS money
       FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()`,
    );
    const row = rows[0]!;
    result.database = {
      commits: Number(row.commits),
      rollbacks: Number(row.rollbacks),
      xid: Number(row.xid),
      walLsn: row.lsn!,
      walSyncs: Number(row.syncs),
      walWrites: Number(row.writes),
      moneyRowUpdates: Number(row.money),
    };
  }
  return result;
}

function lsnBytes(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

export function usageBetween(before: Sample, after: Sample): Usage {
  const usage: Usage = {
    seconds: (after.at - before.at) / 1000,
    cores: availableParallelism(),
    machineBusy: (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total),
    loadGeneratorMs: after.loadGeneratorMs - before.loadGeneratorMs,
  };
  if (before.postgres && after.postgres) {
    usage.postgresSystemMs = after.postgres.systemMs - before.postgres.systemMs;
    usage.postgresMs = after.postgres.userMs - before.postgres.userMs + usage.postgresSystemMs;
  }
  if (before.redisMs !== undefined && after.redisMs !== undefined)
    usage.redisMs = after.redisMs - before.redisMs;
  const [a, b] = [before.database, after.database];
  if (a && b) {
    usage.commits = b.commits - a.commits;
    usage.rollbacks = b.rollbacks - a.rollbacks;
    // The later sample's own query took one of the ids.
    usage.writeTransactions = b.xid - a.xid - 1;
    usage.walBytes = Number(lsnBytes(b.walLsn) - lsnBytes(a.walLsn));
    usage.walSyncs = b.walSyncs - a.walSyncs;
    usage.walWrites = b.walWrites - a.walWrites;
    usage.moneyRowUpdates = b.moneyRowUpdates - a.moneyRowUpdates;
  }
  return usage;
}

export interface LockWaits {
  /** Mean number of the database's sessions waiting for a lock (a row another transaction holds). */
  waiting: number;
  /** Mean number of its sessions running a statement (waiting or not). */
  active: number;
  samples: number;
}

/**
 * Samples `pg_stat_activity` every `intervalMs` until `stop()`: how many of the database's sessions were
 * queued behind a lock, on average — the hot-row contention itself, not its effect on the rate.
 */
export function watchLockWaits(db: pg.Client, intervalMs = 50): { stop(): Promise<LockWaits> } {
  let waiting = 0;
  let active = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await db.query<{ waiting: number; active: number }>(
        `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock')::integer AS waiting,
           count(*) FILTER (WHERE state = 'active')::integer AS active
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      waiting += rows[0]!.waiting;
      active += rows[0]!.active;
      samples++;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { waiting: waiting / samples, active: active / samples, samples };
    },
  };
}
