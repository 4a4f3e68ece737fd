/**
 * Pure text helpers shared by the terminal display and the plain logger: durations, kudos, speeds,
 * progress bars and the lines describing a worker and its jobs. No colour here; the terminal adds it.
 */
import type { JobView, NoticeLevel, WorkerSnapshot } from '../status.js';

/** `0.4 s`, `4.2 s`, `42 s`, `3 m 05 s`, `2 h 07 m`. Negative durations read as zero. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/** Kudos with one decimal and thousands separators: `12.3`, `1,234.5`. */
export function formatKudos(kudos: number): string {
  return kudos.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** The worker's speed: megapixelsteps per second for image workers, tokens per second for text workers. */
export function formatRate(
  snapshot: Pick<WorkerSnapshot, 'kind' | 'megapixelstepsPerSecond' | 'tokensPerSecond'>,
) {
  return snapshot.kind === 'image'
    ? `${snapshot.megapixelstepsPerSecond.toFixed(2)} MPS/s`
    : `${snapshot.tokensPerSecond.toFixed(1)} tokens/s`;
}

/**
 * Eight hex digits of a job id, enough to find it in the horde's logs: the last eight, since time-ordered (v7)
 * ids share their first ones with every job of the same moment.
 */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(-8);
}

/** `[########------] 57%`: `cells` characters between the brackets; `fraction` is clamped to 0–1. */
export function progressBar(fraction: number, cells: number): string {
  const clamped = Number.isFinite(fraction) ? Math.min(Math.max(fraction, 0), 1) : 0;
  const width = Math.max(1, Math.floor(cells));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent(clamped)}%`;
}

/** Whole percent, rounded down (a bar never shows 100% before the end), tolerant of 0.57 × 100 = 56.99…. */
function percent(fraction: number): number {
  return Math.floor(Math.min(Math.max(fraction, 0), 1) * 100 + 1e-9);
}

/** `SDXL 1.0, stable_diffusion, Flux +4 more`: the first `max` models, then how many others. */
export function formatModels(models: readonly string[], max = 3): string {
  if (models.length === 0) return 'no models';
  const shown = models.slice(0, max).join(', ');
  return models.length > max ? `${shown} +${models.length - max} more` : shown;
}

/**
 * The model list that fits in `room` characters: as many names as fit (at most `max`), then `+N more`;
 * `N models` when not even one name fits.
 */
export function fitModels(models: readonly string[], room: number, max = 3): string {
  for (let shown = Math.min(max, models.length); shown >= 1; shown--) {
    const text = formatModels(models, shown);
    if (text.length <= room) return text;
  }
  return models.length === 0 ? 'no models' : `${models.length} model${models.length === 1 ? '' : 's'}`;
}

/** The worker's state as a phrase: `running`, `paused 42 s: check your API key`, `draining (2 in flight)`. */
export function formatState(snapshot: WorkerSnapshot, now: number): string {
  switch (snapshot.state) {
    case 'paused': {
      const left =
        snapshot.pausedUntil === undefined
          ? ''
          : ` ${Math.ceil(Math.max(0, snapshot.pausedUntil - now) / 1000)} s`;
      return `paused${left}${snapshot.pauseReason ? `: ${snapshot.pauseReason}` : ''}`;
    }
    case 'draining':
      return `draining (${snapshot.inFlight.length} in flight)`;
    default:
      return snapshot.state;
  }
}

/** The parts of a worker's header line, in order; the terminal colours some of them, then joins with ` · `. */
export interface HeaderParts {
  name: string;
  /** The backend; the speed's unit tells an image worker from a text worker. */
  backend: string;
  state: string;
  models: string;
  counts: string;
  kudos: string;
  rate: string;
}

/** The header's parts; the model list gets what is left of `columns` (one kept free for the cursor). */
export function headerParts(
  snapshot: WorkerSnapshot,
  now: number,
  columns = Number.POSITIVE_INFINITY,
): HeaderParts {
  const parts = {
    name: snapshot.name,
    backend: snapshot.backend,
    state: formatState(snapshot, now),
    models: '',
    counts: formatCounts(snapshot),
    kudos: `${formatKudos(snapshot.kudos)} kudos`,
    rate: formatRate(snapshot),
  };
  const separators = (Object.keys(parts).length - 1) * ' · '.length;
  const used = Object.values(parts).reduce((length, part) => length + part.length, separators);
  parts.models = fitModels(snapshot.models, columns - 1 - used);
  return parts;
}

/** `12 done`, `12 done, 1 faulted, 2 dropped`: failures only once there are some, to keep the header short. */
export function formatCounts(snapshot: Pick<WorkerSnapshot, 'done' | 'faulted' | 'dropped'>): string {
  const counts = [`${snapshot.done} done`];
  if (snapshot.faulted > 0) counts.push(`${snapshot.faulted} faulted`);
  if (snapshot.dropped > 0) counts.push(`${snapshot.dropped} dropped`);
  return counts.join(', ');
}

/** One line per worker: `gpu-1 · a1111 · running · SDXL 1.0 · 3 done · 36.9 kudos · 1.25 MPS/s`. */
export function formatHeader(snapshot: WorkerSnapshot, now: number, columns?: number): string {
  return Object.values(headerParts(snapshot, now, columns)).join(' · ');
}

/** The smallest and largest progress bar (cells between the brackets) a job line gets. */
const MIN_BAR_CELLS = 10;
const MAX_BAR_CELLS = 40;

/**
 * `  1a2b3c4d  SDXL 1.0  1024×1024 · 30 steps  generating  12 s  [#####-----] 57%`, at most `columns`
 * wide when there is room for a bar of at least ten cells (the bar shrinks first, then is dropped to a
 * bare percentage).
 */
export function formatJobLine(job: JobView, now: number, columns: number): string {
  const text = `  ${shortId(job.id)}  ${job.model}  ${job.summary}  ${job.phase}  ${formatDuration(now - job.startedAt)}`;
  if (job.progress === undefined) return text;
  // Room left after the text, two spaces, the brackets and ` 100%`; keep one column free for the cursor.
  const room = columns - 1 - text.length - 2 - 2 - 5;
  if (room < MIN_BAR_CELLS) return `${text}  ${percent(job.progress)}%`;
  return `${text}  ${progressBar(job.progress, Math.min(room, MAX_BAR_CELLS))}`;
}

/** `2026-11-26T03:00:00.000Z info  gpu-1: message`: a log line, level padded so messages align. */
export function formatLogLine(at: number, level: NoticeLevel, worker: string, message: string): string {
  return `${new Date(at).toISOString()} ${level.padEnd(5)} ${worker}: ${message}`;
}

/** `03:00:07`: local wall-clock time, for notices on a terminal. */
export function formatClock(at: number): string {
  const date = new Date(at);
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/** The totals the plain logger prints once a minute: `totals: 12 done, 1 faulted, 0 dropped, 140.2 kudos, 1.20 MPS/s`. */
export function formatTotals(snapshot: WorkerSnapshot): string {
  return (
    `totals: ${snapshot.done} done, ${snapshot.faulted} faulted, ${snapshot.dropped} dropped, ` +
    `${formatKudos(snapshot.kudos)} kudos, ${formatRate(snapshot)}`
  );
}
