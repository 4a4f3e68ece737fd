/**
 * Generation statistics: completed jobs and their things per kind, model and time bucket, in memory and
 * written through to `generation_stats`. Three layers, and each completion is in exactly one of them:
 *
 * - minute buckets: where a completion is counted (one UPSERT inside `completeJob`'s transaction);
 * - hour buckets: minute buckets are folded into them once they no longer touch the `hour` window;
 * - one archive row per model: hour buckets are folded into it once they no longer touch the `month` window.
 *
 * Folding runs at most once per minute of the clock, inside a settle or an expiry sweep, so the tables
 * hold about an hour of minute buckets and 31 days of hour buckets. A window counts every bucket that
 * overlaps it: `minute` and `hour` read minute buckets (at most a minute too long), `day` and `month` read
 * both layers by hour (at most an hour too long), `total` is a running sum per model.
 */
import type { Database } from 'better-sqlite3';
import type {
  GenerationCount,
  GenerationStats,
  JobRecord,
  ModelGenerationCounts,
  RequestKind,
  StatsWindow,
} from '../../storage/types.js';
import type { SqliteState } from './state.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONTH = 30 * DAY;
/** A model's archive row: `span` 0, `start` 0. */
const TO_ARCHIVE = { span: 0, start: 0 };

type Buckets = Map<number, Map<string, GenerationCount>>;

interface KindStats {
  minutes: Buckets;
  hours: Buckets;
  /** Every completion ever, per model (all three layers). */
  totals: Map<string, GenerationCount>;
}

export interface GenerationStatsState {
  image: KindStats;
  text: KindStats;
  /** Buckets are folded by the first write at or after this instant. */
  nextFoldAt: number;
}

/** What one write changes: a completion to count, and buckets to fold. Built before, applied after the transaction. */
export interface StatsChange {
  completed: { kind: RequestKind; model: string; things: number; bucket: number } | null;
  folds: Fold[];
  nextFoldAt: number;
}

interface Fold {
  kind: RequestKind;
  from: { span: number; start: number };
  to: { span: number; start: number };
  counts: Map<string, GenerationCount>;
}

interface StatsRow {
  kind: RequestKind;
  span: number;
  start: number;
  model: string;
  jobs: number;
  things: number;
}

export function loadGenerationStats(db: Database): GenerationStatsState {
  const stats: GenerationStatsState = { image: emptyKind(), text: emptyKind(), nextFoldAt: 0 };
  for (const row of db.prepare('SELECT * FROM generation_stats').iterate() as Iterable<StatsRow>) {
    const k = stats[row.kind];
    const counts = { jobs: row.jobs, things: row.things };
    if (row.span === MINUTE) addTo(bucket(k.minutes, row.start), row.model, counts);
    else if (row.span === HOUR) addTo(bucket(k.hours, row.start), row.model, counts);
    addTo(k.totals, row.model, counts);
  }
  return stats;
}

/**
 * Plans the statistics part of a write at `now`: the job it completed, if any, and the folds due. Null
 * when there is nothing to write or remember.
 */
export function planStatsChange(
  s: SqliteState,
  completed: JobRecord | null,
  now: number,
): StatsChange | null {
  const foldDue = now >= s.stats.nextFoldAt;
  if (!completed && !foldDue) return null;
  return {
    completed: completed && {
      kind: completed.kind,
      model: completed.model,
      things: completed.things,
      bucket: floorTo(now, MINUTE),
    },
    folds: foldDue ? dueFolds(s.stats, now) : [],
    nextFoldAt: foldDue ? floorTo(now, MINUTE) + MINUTE : s.stats.nextFoldAt,
  };
}

/** Writes a planned change; call inside the operation's transaction. */
export function writeStatsChange(s: SqliteState, change: StatsChange | null): void {
  if (!change) return;
  const { completed } = change;
  if (completed) {
    s.stmt.addGenerationStats.run(
      completed.kind,
      MINUTE,
      completed.bucket,
      completed.model,
      1,
      completed.things,
    );
  }
  for (const fold of change.folds) {
    for (const [model, counts] of fold.counts) {
      s.stmt.addGenerationStats.run(
        fold.kind,
        fold.to.span,
        fold.to.start,
        model,
        counts.jobs,
        counts.things,
      );
    }
    s.stmt.deleteGenerationStats.run(fold.kind, fold.from.span, fold.from.start);
  }
}

/** Applies a written change to memory, once the transaction succeeded. */
export function applyStatsChange(s: SqliteState, change: StatsChange | null): void {
  if (!change) return;
  const { completed } = change;
  if (completed) {
    const k = s.stats[completed.kind];
    const counts = { jobs: 1, things: completed.things };
    addTo(bucket(k.minutes, completed.bucket), completed.model, counts);
    addTo(k.totals, completed.model, counts);
  }
  for (const fold of change.folds) {
    const k = s.stats[fold.kind];
    (fold.from.span === MINUTE ? k.minutes : k.hours).delete(fold.from.start);
    // Archived counts live on only in `totals`, which already has them.
    if (fold.to.span !== HOUR) continue;
    const into = bucket(k.hours, fold.to.start);
    for (const [model, counts] of fold.counts) addTo(into, model, counts);
  }
  s.stats.nextFoldAt = change.nextFoldAt;
}

export function readGenerationStats(s: SqliteState, kind: RequestKind, now: number): GenerationStats {
  const k = s.stats[kind];
  const rows = new Map<string, ModelGenerationCounts>();
  for (const [model, total] of k.totals) {
    rows.set(model, { model, minute: zero(), hour: zero(), day: zero(), month: zero(), total: { ...total } });
  }
  // A bucket overlaps the window `[now − length, now]` when it starts after `now − length − its span`.
  for (const [start, models] of k.minutes) {
    const hour = floorTo(start, HOUR);
    for (const [model, counts] of models) {
      const row = rows.get(model)!;
      if (start > now - 2 * MINUTE) addToWindow(row, 'minute', counts);
      if (start > now - HOUR - MINUTE) addToWindow(row, 'hour', counts);
      if (hour > now - DAY - HOUR) addToWindow(row, 'day', counts);
      if (hour > now - MONTH - HOUR) addToWindow(row, 'month', counts);
    }
  }
  for (const [start, models] of k.hours) {
    for (const [model, counts] of models) {
      const row = rows.get(model)!;
      if (start > now - DAY - HOUR) addToWindow(row, 'day', counts);
      if (start > now - MONTH - HOUR) addToWindow(row, 'month', counts);
    }
  }
  const models = [...rows.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return { kind, models };
}

/** Minute buckets that no longer touch the `hour` window, hour buckets that no longer touch `month`. */
function dueFolds(stats: GenerationStatsState, now: number): Fold[] {
  const folds: Fold[] = [];
  for (const kind of ['image', 'text'] as const) {
    const k = stats[kind];
    for (const [start, counts] of k.hours) {
      if (start <= now - MONTH - HOUR)
        folds.push({ kind, from: { span: HOUR, start }, to: TO_ARCHIVE, counts });
    }
    for (const [start, counts] of k.minutes) {
      if (start > now - HOUR - MINUTE) continue;
      // A minute whose hour is itself due for the archive (after a long stop) goes straight there.
      const hour = floorTo(start, HOUR);
      const to = hour <= now - MONTH - HOUR ? TO_ARCHIVE : { span: HOUR, start: hour };
      folds.push({ kind, from: { span: MINUTE, start }, to, counts });
    }
  }
  return folds;
}

function emptyKind(): KindStats {
  return { minutes: new Map(), hours: new Map(), totals: new Map() };
}

function zero(): GenerationCount {
  return { jobs: 0, things: 0 };
}

function floorTo(at: number, span: number): number {
  return Math.floor(at / span) * span;
}

function bucket(buckets: Buckets, start: number): Map<string, GenerationCount> {
  let models = buckets.get(start);
  if (!models) {
    models = new Map();
    buckets.set(start, models);
  }
  return models;
}

function addTo(counts: Map<string, GenerationCount>, model: string, more: GenerationCount): void {
  const current = counts.get(model);
  if (current) {
    current.jobs += more.jobs;
    current.things += more.things;
  } else counts.set(model, { jobs: more.jobs, things: more.things });
}

function addToWindow(row: ModelGenerationCounts, window: StatsWindow, more: GenerationCount): void {
  row[window].jobs += more.jobs;
  row[window].things += more.things;
}
