/**
 * What `draw` shows while it waits: on a terminal one live line redrawn in place (log-update), otherwise a
 * plain line each time the request's state changes. Permanent lines (warnings, saved files) go above it.
 */
import { createLogUpdate } from 'log-update';
import type { CheckAnswer } from './client.js';

/** Where `draw` writes: `process.stdout` or, in tests, any writable stream. */
export type DrawOutput = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressDisplay {
  /** A permanent line. */
  line(text: string): void;
  /** The request's latest check, `elapsedMs` after it was queued. */
  state(check: CheckAnswer, total: number, elapsedMs: number): void;
  /** Removes the live line (terminal) so what follows starts on a clean line. */
  stop(): void;
}

/** `4.2 s`, `42 s`, `3 m 05 s`. */
export function formatSeconds(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  return `${Math.floor(seconds / 60)} m ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
}

/**
 * The request's state in a few words: `queued #3`, `processing 1/2`, `processing 1/2 · 1 done`. The ETA is
 * separate because it changes on every check.
 */
export function describeCheck(check: CheckAnswer, total: number): { state: string; eta: string } {
  const eta = check.wait_time > 0 ? `ETA ${check.wait_time} s` : '';
  if (check.done) return { state: `done ${check.finished}/${total}`, eta: '' };
  const parts: string[] = [];
  if (check.processing > 0) parts.push(`processing ${check.processing}/${total}`);
  else if (check.waiting > 0) parts.push(`queued #${check.queue_position}`);
  else parts.push('waiting');
  if (check.finished > 0) parts.push(`${check.finished} done`);
  if (check.processing > 0 && check.waiting > 0) parts.push(`${check.waiting} queued`);
  return { state: parts.join(' · '), eta };
}

export function createProgress(stream: DrawOutput): ProgressDisplay {
  return stream.isTTY === true ? liveProgress(stream) : plainProgress(stream);
}

function liveProgress(stream: DrawOutput): ProgressDisplay {
  const logUpdate = createLogUpdate(stream);
  let live = '';
  return {
    line(text) {
      if (live) logUpdate.clear();
      stream.write(`${text}\n`);
      if (live) logUpdate(live);
    },
    state(check, total, elapsedMs) {
      const { state, eta } = describeCheck(check, total);
      live = [state, eta, formatSeconds(elapsedMs)].filter(Boolean).join(' · ');
      logUpdate(live);
    },
    stop() {
      if (live) logUpdate.clear();
      logUpdate.done();
      live = '';
    },
  };
}

function plainProgress(stream: DrawOutput): ProgressDisplay {
  let last = '';
  return {
    line(text) {
      stream.write(`${text}\n`);
    },
    state(check, total, elapsedMs) {
      const { state, eta } = describeCheck(check, total);
      if (state === last) return;
      last = state;
      stream.write(`${[state, eta].filter(Boolean).join(' · ')} (after ${formatSeconds(elapsedMs)})\n`);
    },
    stop() {},
  };
}
