/**
 * The live display on a terminal: one header line per worker and one line per job in flight, redrawn in
 * place by log-update at most every `refreshMs`. Notices are printed above the live block as permanent lines.
 */
import { createLogUpdate } from 'log-update';
import type { Notice, NoticeLevel, WorkerReporter, WorkerSnapshot } from '../status.js';
import { formatClock, formatJobLine, headerParts } from './format.js';

export interface TerminalDisplayOptions {
  /** Where to draw, normally `process.stdout`. Colours are used only when `stream.isTTY`. */
  stream: NodeJS.WriteStream;
  /** The clock for elapsed times and pause countdowns. @default Date.now */
  now?: () => number;
  /** The shortest time between two redraws, in milliseconds. @default 250 */
  refreshMs?: number;
}

export type TerminalDisplay = WorkerReporter & {
  /** Draws a last frame, leaves it on screen and stops redrawing. */
  close(): void;
};

/** While something counts (a job's elapsed time, a pause countdown), redraw at least this often. */
const CLOCK_TICK_MS = 1000;

type Paint = (text: string) => string;

function ansi(enabled: boolean, open: number, close: number): Paint {
  return enabled ? (text) => `\u001B[${open}m${text}\u001B[${close}m` : (text) => text;
}

function palette(enabled: boolean) {
  return {
    bold: ansi(enabled, 1, 22),
    dim: ansi(enabled, 2, 22),
    red: ansi(enabled, 31, 39),
    green: ansi(enabled, 32, 39),
    yellow: ansi(enabled, 33, 39),
    cyan: ansi(enabled, 36, 39),
  };
}

export function createTerminalDisplay(options: TerminalDisplayOptions): TerminalDisplay {
  const { stream } = options;
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 250;
  const paint = palette(stream.isTTY === true);
  const logUpdate = createLogUpdate(stream);
  const snapshots = new Map<string, WorkerSnapshot>();
  let timer: NodeJS.Timeout | undefined;
  let dirty = false;
  let closed = false;

  const levelMarker: Record<NoticeLevel, string> = {
    info: paint.cyan('info '),
    warn: paint.yellow('warn '),
    error: paint.red('error'),
  };

  function stateColour(snapshot: WorkerSnapshot): Paint {
    if (snapshot.state === 'running') return paint.green;
    if (snapshot.state === 'stopped') return paint.red;
    return paint.yellow;
  }

  function frame(): string {
    const at = now();
    const columns = stream.columns || 80;
    const lines: string[] = [];
    for (const snapshot of snapshots.values()) {
      const parts = headerParts(snapshot, at, columns);
      lines.push(
        [
          paint.bold(parts.name),
          paint.dim(parts.backend),
          stateColour(snapshot)(parts.state),
          parts.models,
          parts.counts,
          parts.kudos,
          parts.rate,
        ].join(' · '),
      );
      if (snapshot.skipped) lines.push(paint.dim(`  skipped: ${snapshot.skipped}`));
      for (const job of snapshot.inFlight) lines.push(formatJobLine(job, at, columns));
    }
    return lines.join('\n');
  }

  function render() {
    if (snapshots.size > 0) logUpdate(frame());
  }

  /** Something on screen changes with time alone. */
  function ticking(): boolean {
    for (const snapshot of snapshots.values()) {
      if (snapshot.inFlight.length > 0 || snapshot.state === 'paused') return true;
    }
    return false;
  }

  function arm(ms: number) {
    timer = setTimeout(onTimer, ms);
    timer.unref();
  }

  function onTimer() {
    timer = undefined;
    if (closed) return;
    if (dirty) {
      dirty = false;
      render();
      arm(refreshMs);
    } else if (ticking()) {
      render();
      arm(Math.max(refreshMs, CLOCK_TICK_MS));
    }
  }

  /** Leading edge: draw now unless a redraw happened within `refreshMs`; then at most one per interval. */
  function requestRender() {
    if (timer !== undefined) {
      dirty = true;
      return;
    }
    render();
    arm(refreshMs);
  }

  return {
    update(snapshot) {
      snapshots.set(`${snapshot.name}\u0000${snapshot.kind}`, snapshot);
      if (!closed) requestRender();
    },
    notice(notice: Notice) {
      const line = `${paint.dim(formatClock(notice.at))} ${levelMarker[notice.level]} ${paint.bold(notice.worker)}: ${notice.message}`;
      if (closed) {
        stream.write(`${line}\n`);
        return;
      }
      logUpdate.clear();
      stream.write(`${line}\n`);
      render();
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      render();
      logUpdate.done();
    },
  };
}
