/**
 * How many jobs of one request a worker gets in one pop when it asks for `amount > 1` (spec §3.4). The
 * jobs of a batch share one payload and run as one `n_iter` batch on the worker, so the batch must fit in
 * the worker's memory budget (`max_pixels`).
 */
import type { JobConfig } from '../config.js';
import type { ImageGenerateBody } from '../requests/schemas.js';

/** Post-processors that need much more memory than the image itself (spec §3.4). */
export const HEAVY_POST_PROCESSORS: ReadonlySet<string> = new Set([
  'RealESRGAN_x4plus',
  'RealESRGAN_x4plus_anime_6B',
  'NMKD_Siax',
  '4x_AnimeSharp',
  'CodeFormers',
  '4xNomos8kSC',
  '4xLSDIRplus',
  '4xNomos2_hq_dat2',
  'RestoreFormer',
]);

export interface BatchingWorker {
  /** The `amount` the worker asked for. */
  amount: number;
  /** The worker's `max_pixels`. */
  maxPixels: number;
}

/**
 * The image batch size: `round(max_pixels / 3.5 × amount / (w·h × (1 + 0.4 × post-processors) × heavy))`
 * with `heavy` = 1.8 for a heavy post-processor or `transparent`, clamped to `[1, amount]` and to the
 * request's `remaining` jobs; 1 with `disable_batching`. Upstream also defines a per-family divisor (Flux ÷5,
 * Qwen-Image ÷10, Z-Image ÷8) that never applies because of a lookup bug; we do not apply it either.
 */
export function imageBatchSize(
  body: ImageGenerateBody,
  worker: BatchingWorker,
  remaining: number,
  jobs: JobConfig,
): number {
  if (body.disable_batching) return Math.min(1, remaining);
  const p = body.params;
  const heavy = p.transparent === true || p.post_processing.some((pp) => HEAVY_POST_PROCESSORS.has(pp));
  const load =
    p.width *
    p.height *
    (1 + jobs.batchPerPostProcessor * p.post_processing.length) *
    (heavy ? jobs.batchHeavyFactor : 1);
  const safe = Math.round(((worker.maxPixels / jobs.batchPixelsDivisor) * worker.amount) / load);
  return Math.min(Math.max(safe, 1), worker.amount, remaining);
}

/** The text batch size: `min(amount, remaining)`, 1 with `disable_batching`. */
export function textBatchSize(amount: number, remaining: number, disableBatching: boolean): number {
  return Math.min(disableBatching ? 1 : amount, remaining);
}
