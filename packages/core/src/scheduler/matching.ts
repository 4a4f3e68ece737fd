/**
 * Per-candidate matching: the checks that cannot be indexed (prompt words, worker lists, sampler and
 * post-processor support per bridge version, model-family features), run on each request the queue index
 * returns, in the order the public horde reports them. The result is the models the worker may use for the
 * request, or the `skipped` reason.
 */

import { accurateSteps } from '../ledger/pricing-image.js';
import { supportsSampler } from '../models/bridges.js';
import { baselineOf } from '../models/reference.js';
import type { BridgeProfile, ModelReference } from '../models/types.js';
import type { ImageGenerateBody, TextGenerateBody } from '../requests/schemas.js';
import type { ImageWorkerProfile, RequestRecord, SkipReason, TextWorkerProfile } from '../storage/types.js';

export interface CandidateWorker {
  id: string;
  bridge: BridgeProfile;
  models: ModelReference;
  /** Lower-cased `blacklist` words of the pop. */
  blacklist: string[];
}

export type MatchResult = { ok: true; models: string[] } | { ok: false; reason: SkipReason };

const skip = (reason: SkipReason): MatchResult => ({ ok: false, reason });

function promptHits(prompt: string, words: string[]): boolean {
  if (words.length === 0) return false;
  const lower = prompt.toLowerCase();
  return words.some((word) => word.length > 0 && lower.includes(word));
}

function targets(workers: string[], denyList: boolean, workerId: string): boolean {
  if (workers.length === 0) return true;
  return denyList ? !workers.includes(workerId) : workers.includes(workerId);
}

/** The worker's models the request may run on: the intersection, or all of the worker's for "any model". */
function sharedModels(requested: string[], offered: string[]): string[] {
  if (requested.length === 0) return offered;
  const wanted = new Set(requested);
  return offered.filter((model) => wanted.has(model));
}

const DEFAULT_MIN_STEPS = 20;
const DEFAULT_MAX_STEPS = 40;

export function matchImageCandidate(
  request: RequestRecord,
  pop: ImageWorkerProfile,
  worker: CandidateWorker,
): MatchResult {
  const body = request.body as ImageGenerateBody;
  const p = body.params;
  if (promptHits(body.prompt, worker.blacklist)) return skip('blacklist');
  if (!targets(body.workers, body.worker_blacklist, worker.id)) return skip('worker_id');

  const painting =
    body.source_image !== undefined &&
    (body.source_processing === 'inpainting' || body.source_processing === 'outpainting');
  let models = sharedModels(request.models, pop.models);
  if (request.models.length === 0) {
    // "Any model": send painting jobs to inpainting models and everything else to the others.
    models = models.filter((name) => (worker.models.image(name)?.inpainting ?? false) === painting);
    if (models.length === 0) return skip('models');
  }
  if (!supportsSampler(worker.bridge, p.sampler_name, p.karras)) return skip('bridge_version');
  for (const pp of p.post_processing) if (!worker.bridge.capabilities.has(pp)) return skip('bridge_version');

  models = models.filter((name) => {
    const baseline = baselineOf(worker.models, name);
    if (baseline === 'flux_1' && !worker.bridge.capabilities.has('flux')) return false;
    if (
      baseline === 'stable_cascade' &&
      p.hires_fix &&
      !worker.bridge.capabilities.has('stable_cascade_2pass')
    )
      return false;
    return true;
  });
  if (models.length === 0) return skip('bridge_version');

  if (p.workflow === 'qr_code' && !pop.allow_sdxl_controlnet) {
    models = models.filter((name) => baselineOf(worker.models, name) !== 'stable_diffusion_xl');
    if (models.length === 0) return skip('controlnet');
  }
  if (pop.limit_max_steps) {
    const steps = accurateSteps(body);
    models = models.filter((name) => {
      const req = worker.models.image(name)?.requirements ?? {};
      const limit = ((req.min_steps ?? DEFAULT_MIN_STEPS) + (req.max_steps ?? DEFAULT_MAX_STEPS)) / 2;
      return steps <= limit;
    });
    if (models.length === 0) return skip('step_count');
  }
  return { ok: true, models };
}

export function matchTextCandidate(
  request: RequestRecord,
  pop: TextWorkerProfile,
  worker: CandidateWorker,
): MatchResult {
  const body = request.body as TextGenerateBody;
  if (promptHits(body.prompt, worker.blacklist)) return skip('blacklist');
  if (!targets(body.workers, body.worker_blacklist, worker.id)) return skip('worker_id');
  if (body.softprompt && !pop.softprompts.includes(body.softprompt)) return skip('matching_softprompt');
  const models = sharedModels(request.models, pop.models);
  if (models.length === 0) return skip('models');
  return { ok: true, models };
}
