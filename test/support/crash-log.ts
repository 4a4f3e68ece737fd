/**
 * The log the crash workload keeps beside its database: one line per engine call that returned, written
 * with `fs.writeSync` after the call, so every line is something the engine acknowledged before the kill.
 *
 *   accepted <requestId> <jobs>        generateImage / generateText returned an id
 *   popped <requestId> <jobId>…        a pop handed out these jobs
 *   submitted <jobId> <ok|faulted>     a submit returned (`ok` also covers censored results)
 *   cancelled <requestId>              cancelRequest returned
 *   transfer <transferId> <replayed>   a transfer returned (`true` when an idempotency key replayed it)
 *   granted <accountId>                the one-time admin grant of an account returned
 */
import { readFileSync } from 'node:fs';

export function crashLogPath(databasePath: string): string {
  return `${databasePath}.log`;
}

export interface CrashLog {
  /** Request id → jobs asked for. */
  accepted: Map<string, number>;
  /** Job id → request id, for every job a pop handed out. */
  popped: Map<string, string>;
  /** Job ids handed out by more than one pop (must stay empty). */
  poppedTwice: string[];
  submitted: Map<string, 'ok' | 'faulted'>;
  cancelled: Set<string>;
  transfers: Set<number>;
  granted: Set<number>;
  lines: number;
}

export function readCrashLog(databasePath: string): CrashLog {
  const log: CrashLog = {
    accepted: new Map(),
    popped: new Map(),
    poppedTwice: [],
    submitted: new Map(),
    cancelled: new Set(),
    transfers: new Set(),
    granted: new Set(),
    lines: 0,
  };
  const text = readFileSync(crashLogPath(databasePath), 'utf8');
  // A kill can only cut the line being written; complete lines end with a newline.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  for (const line of complete.split('\n')) {
    if (line === '') continue;
    log.lines++;
    const [kind, first = '', ...rest] = line.split(' ');
    switch (kind) {
      case 'accepted':
        log.accepted.set(first, Number(rest[0]));
        break;
      case 'popped':
        for (const jobId of rest) {
          if (log.popped.has(jobId)) log.poppedTwice.push(jobId);
          log.popped.set(jobId, first);
        }
        break;
      case 'submitted':
        log.submitted.set(first, rest[0] === 'faulted' ? 'faulted' : 'ok');
        break;
      case 'cancelled':
        log.cancelled.add(first);
        break;
      case 'transfer':
        log.transfers.add(Number(first));
        break;
      case 'granted':
        log.granted.add(Number(first));
        break;
      default:
        throw new Error(`unreadable crash log line: ${line}`);
    }
  }
  return log;
}
