/**
 * What the horde has generated (`/stats/img/totals`, `/stats/text/totals`, `/stats/img/models`,
 * `/stats/text/models`): completed jobs, censored ones included, counted by the store when a job settles.
 * Windows end at the engine clock's now and are rounded to the store's buckets (see
 * `HordeStore.generationStats`): `minute` and `hour` by the minute, `day` and `month` (30 days) by the hour.
 */
import { HordeError } from '../errors.js';
import type { GenerationStats, RequestKind, StatsWindow } from '../storage/types.js';
import { STATS_WINDOWS } from '../storage/types.js';
import type { EngineContext } from './context.js';

export interface ImagePeriodStat {
  /** Images generated. */
  images: number;
  /** Pixelsteps generated (width × height × steps). */
  ps: number;
}

export interface TextPeriodStat {
  /** Text jobs completed. */
  requests: number;
  tokens: number;
}

export type ImageStatsTotals = Record<StatsWindow, ImagePeriodStat>;
export type TextStatsTotals = Record<StatsWindow, TextPeriodStat>;

/** `known`: models in the reference; `custom`: the others. */
export const MODEL_STATES = ['known', 'custom', 'all'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

/** Completed jobs per model name. */
export interface ModelStatsByPeriod {
  day: Record<string, number>;
  month: Record<string, number>;
  total: Record<string, number>;
}

export async function imageTotals(ctx: EngineContext): Promise<ImageStatsTotals> {
  const sums = windowSums(await ctx.store.generationStats('image', ctx.clock.now()));
  return mapWindows((w) => ({ images: sums[w].jobs, ps: Math.round(sums[w].things) }));
}

export async function textTotals(ctx: EngineContext): Promise<TextStatsTotals> {
  const sums = windowSums(await ctx.store.generationStats('text', ctx.clock.now()));
  return mapWindows((w) => ({ requests: sums[w].jobs, tokens: Math.round(sums[w].things) }));
}

export async function modelStats(
  ctx: EngineContext,
  kind: RequestKind,
  modelState: ModelState,
): Promise<ModelStatsByPeriod> {
  if (kind !== 'image' && kind !== 'text') {
    throw new HordeError('BadRequest', 'The kind of model statistics must be image or text.', {
      details: { kind },
    });
  }
  if (!MODEL_STATES.includes(modelState)) {
    throw new HordeError('BadRequest', 'model_state must be one of: known, custom, all.', {
      details: { model_state: modelState },
    });
  }
  const stats = await ctx.store.generationStats(kind, ctx.clock.now());
  const rows = stats.models.filter(
    (row) => modelState === 'all' || isKnownModel(ctx, kind, row.model) === (modelState === 'known'),
  );
  // `Object.fromEntries` defines own properties, so a model named `__proto__` stays a model.
  const period = (w: 'day' | 'month' | 'total') =>
    Object.fromEntries(rows.filter((row) => row[w].jobs > 0).map((row) => [row.model, row[w].jobs]));
  return { day: period('day'), month: period('month'), total: period('total') };
}

/**
 * Image: the reference lists it. Text: the reference knows it under one of the names workers send
 * (alias, quantisation and backend prefix aside), not merely sized from its name.
 */
function isKnownModel(ctx: EngineContext, kind: RequestKind, model: string): boolean {
  if (kind === 'image') return ctx.models.image(model) !== undefined;
  const info = ctx.models.text(model);
  return info !== undefined && !info.inferred;
}

function windowSums(stats: GenerationStats): Record<StatsWindow, { jobs: number; things: number }> {
  const sums = mapWindows(() => ({ jobs: 0, things: 0 }));
  for (const row of stats.models) {
    for (const w of STATS_WINDOWS) {
      sums[w].jobs += row[w].jobs;
      sums[w].things += row[w].things;
    }
  }
  return sums;
}

function mapWindows<T>(value: (window: StatsWindow) => T): Record<StatsWindow, T> {
  return Object.fromEntries(STATS_WINDOWS.map((w) => [w, value(w)])) as Record<StatsWindow, T>;
}
