/**
 * Following a request on a horde without push (the public AI Horde): poll `check` and turn the changes of
 * its counters into request events. The public horde allows `GET /generate/check/{id}` 10/s and
 * `GET /generate/status/{id}` only 10/min per IP and request (spec §4.1), so `check` is polled every
 * `intervalMs` (2 s by default; ArtBot polls every 2.1 s) and `status` is read once, when the request is
 * done, for the generations' details. Text requests have no check endpoint: their status (60/min) is polled.
 *
 * Polling cannot see everything. For `processing` it cannot tell which worker took the job: no job ids,
 * the worker is "a worker", and the model is the one asked for, or "any model". For `restarted` it cannot
 * tell which job restarted: `jobId` is ''. All `generation` events come together just before `done`,
 * with the details from that one status read. A done request with no results is reported as
 * `cancelled` (it was cancelled somewhere else).
 */
import type { RequestCheck, RequestEvent, RequestKind, RequestStatus } from '@hordekit/core';
import { isNotFound } from './errors.js';

export interface PollSource {
  check(requestId: string): Promise<RequestCheck>;
  status(requestId: string): Promise<RequestStatus>;
  /** True once this client cancelled the request. */
  cancelled(requestId: string): boolean;
}

export interface PollOptions {
  kind: RequestKind;
  intervalMs: number;
  /** The model the request asked for, shown in `processing` (polling cannot see the worker's). */
  model?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Consecutive failed polls (network, 5xx, rate limits) tolerated before the watch gives up. */
const MAX_FAILURES = 5;

export async function* pollRequestEvents(
  source: PollSource,
  requestId: string,
  options: PollOptions,
): AsyncGenerator<RequestEvent> {
  const { kind, signal } = options;
  // Never faster than the public horde allows: check 10/s, the text status 60/min (per IP and request).
  const intervalMs = Math.max(options.intervalMs, kind === 'text' ? 1000 : 100);
  const base = () => ({ requestId, kind, at: Date.now() });
  let last: RequestCheck | undefined;
  let failures = 0;
  let idle = 0;
  while (!signal?.aborted) {
    if (source.cancelled(requestId)) {
      yield { ...base(), type: 'cancelled' };
      return;
    }
    let check: RequestCheck;
    try {
      check = await source.check(requestId);
      failures = 0;
    } catch (error) {
      if (signal?.aborted) return;
      if (isNotFound(error) && last) {
        // Gone after we saw it: cancelled (by us), or expired.
        yield { ...base(), type: source.cancelled(requestId) ? 'cancelled' : 'expired' };
        return;
      }
      if (isNotFound(error) || ++failures >= MAX_FAILURES) throw error;
      await sleep(intervalMs * failures, signal);
      continue;
    }
    if (check.faulted) {
      yield { ...base(), type: 'faulted' };
      return;
    }
    if (check.done && check.finished === 0) {
      // Done without a single result and not faulted: cancelled (elsewhere) before any job finished.
      yield { ...base(), type: 'cancelled' };
      return;
    }
    if (check.done) {
      const status = await source.status(requestId);
      for (const generation of status.generations) {
        yield {
          ...base(),
          type: 'generation',
          jobId: generation.id,
          workerId: generation.worker_id,
          workerName: generation.worker_name,
          model: generation.model,
          seed: generation.seed,
          state: generation.state,
          censored: generation.censored,
        };
      }
      yield { ...base(), type: 'done', kudos: status.kudos };
      return;
    }
    yield* changes(last, check, base, options.model);
    // Nothing waiting, nothing in flight, not done: a horde that leaves cancelled requests undone (seen twice).
    idle = check.waiting === 0 && check.processing === 0 ? idle + 1 : 0;
    if (idle >= 2) {
      yield { ...base(), type: 'cancelled' };
      return;
    }
    last = check;
    await sleep(intervalMs, signal);
  }
}

/** The events between two checks of a request that is not done. */
function* changes(
  last: RequestCheck | undefined,
  check: RequestCheck,
  base: () => { requestId: string; kind: RequestKind; at: number },
  model: string | undefined,
): Generator<RequestEvent> {
  if (last && check.restarted > last.restarted) {
    for (let i = last.restarted; i < check.restarted; i++) {
      yield { ...base(), type: 'restarted', jobId: '', reason: 'faulted' };
    }
  }
  if (check.processing > (last?.processing ?? 0)) {
    yield {
      ...base(),
      type: 'processing',
      jobIds: [],
      workerId: '',
      workerName: 'a worker',
      model: model ?? 'any model',
    };
  }
  const moved = !last || check.queue_position !== last.queue_position || check.wait_time !== last.wait_time;
  if (check.waiting > 0 && moved) {
    yield { ...base(), type: 'position', position: check.queue_position, waitTime: check.wait_time };
  }
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
