/**
 * The log for when stdout is not a terminal (a service, a pipe, a container): one timestamped line per
 * notice and per meaningful change, derived by diffing snapshots. Never progress bars, never redraws.
 */
import type { JobView, Notice, WorkerReporter, WorkerSnapshot } from '../status.js';
import {
  formatDuration,
  formatKudos,
  formatLogLine,
  formatModels,
  formatState,
  formatTotals,
  shortId,
} from './format.js';

export interface PlainReporterOptions {
  /** Where the lines go, normally `process.stdout`. */
  stream: NodeJS.WritableStream;
  /** The clock for time stamps of change lines and job durations. @default Date.now */
  now?: () => number;
}

/** The totals line is printed at most this often (and only when something moved since the last one). */
export const TOTALS_INTERVAL_MS = 60_000;

/** How long a job that left may wait for the counter saying how it ended. */
const UNMATCHED_GRACE_MS = 5_000;

type Outcome = 'done' | 'faulted' | 'dropped';

/** What the plain logger remembers about one worker between snapshots. */
interface WorkerLog {
  last: WorkerSnapshot;
  /** Jobs that left `inFlight` before the counters said how they ended, with when they left. */
  pending: { job: JobView; leftAt: number }[];
  /** Counter moves not yet matched to a job that left (the counters may move before the job leaves). */
  unmatched: Record<Outcome, number>;
  unmatchedKudos: number;
  /** When the unmatched counters last had no job to match; they are forgotten after the grace period. */
  unmatchedSince: number | undefined;
  totalsAt: number;
  totalsKey: string;
}

function totalsKey(snapshot: WorkerSnapshot): string {
  return `${snapshot.done}/${snapshot.faulted}/${snapshot.dropped}/${snapshot.kudos}`;
}

export function createPlainReporter(options: PlainReporterOptions): WorkerReporter {
  const { stream } = options;
  const now = options.now ?? Date.now;
  const workers = new Map<string, WorkerLog>();

  function print(worker: string, message: string, at = now()) {
    stream.write(`${formatLogLine(at, 'info', worker, message)}\n`);
  }

  /**
   * Matches jobs that left with counter moves, oldest job first, and prints one line per job. A job whose
   * counter has not moved within `UNMATCHED_GRACE_MS` is reported as ended without an outcome; counter moves
   * no job claims within that time are forgotten.
   */
  function settle(log: WorkerLog, at: number) {
    const name = log.last.name;
    while (log.pending.length > 0) {
      const outcome = (['done', 'faulted', 'dropped'] as const).find((o) => log.unmatched[o] > 0);
      if (!outcome) break;
      const { job, leftAt } = log.pending.shift()!;
      log.unmatched[outcome] -= 1;
      const took = formatDuration(leftAt - job.startedAt);
      if (outcome !== 'done') {
        print(name, `${outcome} ${shortId(job.id)} after ${took}`, at);
        continue;
      }
      // Kudos arrive as one counter: jobs that finish in the same snapshot share it evenly.
      const share = log.unmatchedKudos / (log.unmatched.done + 1);
      log.unmatchedKudos -= share;
      const kudos = share > 0 ? `, +${formatKudos(share)} kudos` : '';
      print(name, `done ${shortId(job.id)} in ${took}${kudos}`, at);
    }
    while (log.pending.length > 0 && at - log.pending[0]!.leftAt >= UNMATCHED_GRACE_MS) {
      const { job, leftAt } = log.pending.shift()!;
      print(name, `ended ${shortId(job.id)} after ${formatDuration(leftAt - job.startedAt)}`, at);
    }
    const pool = log.unmatched.done + log.unmatched.faulted + log.unmatched.dropped + log.unmatchedKudos;
    if (pool === 0 || log.pending.length > 0) log.unmatchedSince = undefined;
    else if (log.unmatchedSince === undefined) log.unmatchedSince = at;
    else if (at - log.unmatchedSince >= UNMATCHED_GRACE_MS) {
      log.unmatched = { done: 0, faulted: 0, dropped: 0 };
      log.unmatchedKudos = 0;
      log.unmatchedSince = undefined;
    }
  }

  function first(snapshot: WorkerSnapshot, at: number): WorkerLog {
    print(
      snapshot.name,
      `${formatState(snapshot, at)}: ${snapshot.kind} worker on ${snapshot.backend}, ${formatModels(snapshot.models, 5)}`,
      at,
    );
    for (const job of snapshot.inFlight)
      print(snapshot.name, `started ${shortId(job.id)} ${job.model} ${job.summary}`, at);
    return {
      last: snapshot,
      pending: [],
      unmatched: { done: 0, faulted: 0, dropped: 0 },
      unmatchedKudos: 0,
      unmatchedSince: undefined,
      totalsAt: at,
      totalsKey: totalsKey(snapshot),
    };
  }

  return {
    notice(notice: Notice) {
      stream.write(`${formatLogLine(notice.at, notice.level, notice.worker, notice.message)}\n`);
    },
    update(snapshot) {
      const at = now();
      const key = `${snapshot.name}\u0000${snapshot.kind}`;
      const log = workers.get(key);
      if (!log) {
        workers.set(key, first(snapshot, at));
        return;
      }
      const previous = log.last;
      log.last = snapshot;
      const name = snapshot.name;

      if (snapshot.state !== previous.state) print(name, formatState(snapshot, at), at);
      if (snapshot.skipped && snapshot.skipped !== previous.skipped)
        print(name, `skipped: ${snapshot.skipped}`, at);

      const before = new Set(previous.inFlight.map((job) => job.id));
      const current = new Set(snapshot.inFlight.map((job) => job.id));
      for (const job of snapshot.inFlight) {
        if (!before.has(job.id)) print(name, `started ${shortId(job.id)} ${job.model} ${job.summary}`, at);
      }
      for (const job of previous.inFlight) if (!current.has(job.id)) log.pending.push({ job, leftAt: at });
      log.unmatched.done += Math.max(0, snapshot.done - previous.done);
      log.unmatched.faulted += Math.max(0, snapshot.faulted - previous.faulted);
      log.unmatched.dropped += Math.max(0, snapshot.dropped - previous.dropped);
      log.unmatchedKudos += Math.max(0, snapshot.kudos - previous.kudos);
      settle(log, at);

      const currentTotals = totalsKey(snapshot);
      if (at - log.totalsAt >= TOTALS_INTERVAL_MS && currentTotals !== log.totalsKey) {
        log.totalsAt = at;
        log.totalsKey = currentTotals;
        print(name, formatTotals(snapshot), at);
      }
    },
  };
}
