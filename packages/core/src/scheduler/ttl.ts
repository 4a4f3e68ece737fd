/**
 * How long a worker may hold a job before the stale-job sweep takes it back and re-queues it
 * (spec §3.5). The TTL is sent to the worker as `ttl` on pop.
 */
import type { JobConfig } from '../config.js';
import { accurateSteps } from '../ledger/pricing-image.js';
import type { ImageGenerateBody } from '../requests/schemas.js';

export interface ImageTtlOptions {
  /** A requested model is Flux, Qwen-Image or Z-Image. */
  heavyModel: boolean;
  /** The popping worker declared `extra_slow_worker`. */
  extraSlowWorker: boolean;
}

/**
 * An image job's TTL in seconds: `30 + accurate steps × 2 × (w·h / 512²)`, ×2 with ControlNet, ×3 for
 * heavy models, at least 150, then ×3 for an extra-slow worker; rounded up to a whole second.
 */
export function imageJobTtlSeconds(
  body: ImageGenerateBody,
  options: ImageTtlOptions,
  jobs: JobConfig,
): number {
  const { width, height, control_type: controlType } = body.params;
  let ttl =
    jobs.imageTtlBaseSeconds + (jobs.imageTtlPerStep * accurateSteps(body) * width * height) / (512 * 512);
  if (controlType !== undefined) ttl *= jobs.controlnetTtlFactor;
  if (options.heavyModel) ttl *= jobs.heavyModelTtlFactor;
  ttl = Math.max(ttl, jobs.minTtlSeconds);
  if (options.extraSlowWorker) ttl *= jobs.extraSlowTtlFactor;
  return Math.ceil(ttl);
}

/**
 * A text job's TTL in seconds: a fixed 150, as upstream. Upstream does not extend it for extra-slow
 * workers either (only image jobs get ×3); we follow it.
 */
export function textJobTtlSeconds(jobs: JobConfig): number {
  return jobs.minTtlSeconds;
}
