/**
 * The free tier (spec §2.5): while the horde is busy, requests above a size, a step count or asking for
 * fast workers need kudos reserved upfront; with `allow_downgrade` they are shrunk to fit instead. The
 * limits follow the load, so anonymous and new users keep getting images at busy times.
 */
import type { FreeTierConfig } from '../config.js';
import type { ImageBaseline } from '../models/types.js';
import { type ImageGenerateBody, SECOND_ORDER_SAMPLERS, type TextGenerateBody } from '../requests/schemas.js';
import { accurateSteps, requestedSteps } from './pricing-image.js';

/** LCM LoRAs on CivitAI, by model id and by version id (spec Appendix A). */
export const KNOWN_LCM_LORAS: { ids: ReadonlySet<string>; versions: ReadonlySet<string> } = {
  ids: new Set(['195519', '216190', '324115']),
  versions: new Set(['246747', '247778', '268475', '243643', '225222', '219782', '363353']),
};

/** The load the limits follow: worker threads online and jobs waiting, for one kind of work. */
export interface QueueLoad {
  activeThreads: number;
  queuedJobs: number;
}

/** Why a request needs upfront kudos: a stable code and a sentence for the user. */
export interface UpfrontReason {
  code: 'fast_workers' | 'resolution' | 'lcm_steps' | 'max_steps' | 'controlnet_steps' | 'max_length';
  message: string;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/**
 * The largest free image side: `clamp(1024 + 10 × threads − round(0.9 × queued), 576, 1024)`, raised to
 * the family's minimum (768 for SD2, 1024 for SDXL, Cascade, Flux, Qwen-Image and Z-Image). `baseline` is
 * the requested model's family (the most demanding one when several are requested).
 */
export function imageMaxResolution(
  load: QueueLoad,
  freeTier: FreeTierConfig,
  baseline: ImageBaseline,
): number {
  const byLoad =
    freeTier.imageBaseResolution +
    freeTier.imagePerThread * load.activeThreads -
    Math.round(freeTier.imagePerQueuedJob * load.queuedJobs);
  const clamped = clamp(byLoad, freeTier.imageMinResolution, freeTier.imageMaxResolution);
  return Math.max(clamped, freeTier.imageBaselineMinResolution[baseline] ?? 0);
}

/** The request uses an LCM sampler or a known LCM LoRA (named by its id, or its version id with `is_version`). */
export function usesLcm(body: ImageGenerateBody): boolean {
  if (body.params.sampler_name === 'lcm') return true;
  return body.params.loras.some((lora) =>
    (lora.is_version ? KNOWN_LCM_LORAS.versions : KNOWN_LCM_LORAS.ids).has(lora.name),
  );
}

export interface ImageFreeLimits {
  maxResolution: number;
  /** The model's `max_steps` requirement. @default freeTier.imageMaxSteps */
  modelMaxSteps?: number;
  /** The caller knows the job is LCM by other means (a LoRA name resolved to a known LCM LoRA). */
  lcm: boolean;
}

/**
 * Why an image request needs upfront kudos, or null when it fits the free tier. Checked in the order of
 * spec §2.5: fast workers only, size over `max_res²`, LCM over 10 accurate steps, accurate steps over the
 * model's `max_steps` (40 by default), ControlNet over 20 accurate steps.
 */
export function imageUpfrontReason(
  body: ImageGenerateBody,
  limits: ImageFreeLimits,
  freeTier: FreeTierConfig,
): UpfrontReason | null {
  const { width, height, control_type: controlType } = body.params;
  const steps = accurateSteps(body);
  const maxSteps = limits.modelMaxSteps ?? freeTier.imageMaxSteps;
  const res = limits.maxResolution;
  if (!body.slow_workers) {
    return {
      code: 'fast_workers',
      message: 'Requests for fast workers only (slow_workers: false) need kudos upfront.',
    };
  }
  if (width * height > res * res) {
    return {
      code: 'resolution',
      message: `Images larger than ${res}x${res} need kudos upfront while the horde is busy.`,
    };
  }
  if ((limits.lcm || usesLcm(body)) && steps > freeTier.lcmMaxSteps) {
    return {
      code: 'lcm_steps',
      message: `LCM requests over ${freeTier.lcmMaxSteps} steps need kudos upfront.`,
    };
  }
  if (steps > maxSteps) {
    return {
      code: 'max_steps',
      message: `Requests over ${maxSteps} steps (half that for k_heun, k_dpmpp_sde and k_dpm_2*) need kudos upfront.`,
    };
  }
  if (controlType !== undefined && steps > freeTier.controlnetMaxSteps) {
    return {
      code: 'controlnet_steps',
      message: `ControlNet requests over ${freeTier.controlnetMaxSteps} steps need kudos upfront.`,
    };
  }
  return null;
}

export interface ImageDowngradeLimits {
  maxResolution: number;
  /** The model's `max_steps` requirement. @default freeTier.downgradeSteps */
  maxSteps?: number;
  /** As in {@link ImageFreeLimits}. @default false */
  lcm?: boolean;
}

/**
 * The request shrunk to the free tier (`allow_downgrade`): an area over `max_res²` is scaled to fit, both
 * sides snapped down to multiples of 64 with the aspect ratio kept; accurate steps cut to the model's
 * `max_steps` (30 by default, 20 with ControlNet, 10 for LCM; second-order samplers get half, never below
 * 5 steps); `slow_workers` forced on. Returns a new body.
 */
export function downgradeImage(
  body: ImageGenerateBody,
  limits: ImageDowngradeLimits,
  freeTier: FreeTierConfig,
): ImageGenerateBody {
  const params = { ...body.params };
  const maxArea = limits.maxResolution ** 2;
  if (params.width * params.height > maxArea) {
    const minArea = Math.min(freeTier.imageDowngradeMinResolution ** 2, maxArea);
    Object.assign(params, fitArea(params.width, params.height, maxArea, minArea));
  }
  const stepLimit =
    (limits.lcm ?? false) || usesLcm(body)
      ? freeTier.lcmMaxSteps
      : params.control_type !== undefined
        ? freeTier.controlnetMaxSteps
        : (limits.maxSteps ?? freeTier.downgradeSteps);
  // k_dpm_adaptive picks its own steps: cutting them changes nothing.
  if (params.sampler_name !== 'k_dpm_adaptive' && accurateSteps(body) > stepLimit) {
    const perStep = SECOND_ORDER_SAMPLERS.has(params.sampler_name) ? 2 : 1;
    const cut = Math.max(freeTier.imageDowngradeMinSteps, Math.floor(stepLimit / perStep));
    params.steps = Math.min(requestedSteps(body), cut);
  }
  return { ...body, params, slow_workers: true };
}

function snapDown(side: number): number {
  // The epsilon keeps a side that is exactly a multiple of 64 from losing 64 px to rounding error.
  return Math.max(64, Math.floor(side / 64 + 1e-9) * 64);
}

/**
 * Scales `width × height` to fit `maxArea`, sides snapped down to multiples of 64. Snapping both sides can
 * lose up to 64 px each, which for an elongated image may leave it under `minArea`; the short side then
 * grows while the long one shrinks to stay within the limit.
 */
function fitArea(width: number, height: number, maxArea: number, minArea: number) {
  const scale = Math.sqrt(maxArea / (width * height));
  let w = snapDown(width * scale);
  let h = snapDown(height * scale);
  for (let i = 0; i < 96 && w * h < minArea; i++) {
    const wide = w >= h;
    let short = wide ? h : w;
    let long = wide ? w : h;
    if (short + 64 > (wide ? height : width)) break;
    if ((short + 64) * long <= maxArea) short += 64;
    else if (long - 64 > short + 64) long -= 64;
    else break;
    [w, h] = wide ? [long, short] : [short, long];
  }
  return { width: w, height: h };
}

/** The largest free `max_length`: `clamp(512 + 5 × threads − round(0.9 × queued), 256, 512)`. */
export function textMaxTokens(load: QueueLoad, freeTier: FreeTierConfig): number {
  const byLoad =
    freeTier.textBaseTokens +
    freeTier.textPerThread * load.activeThreads -
    Math.round(freeTier.textPerQueuedJob * load.queuedJobs);
  return clamp(byLoad, freeTier.textMinTokens, freeTier.textMaxTokens);
}

/** Why a text request needs upfront kudos (`max_length` over the free limit, fast workers only), or null. */
export function textUpfrontReason(body: TextGenerateBody, maxTokens: number): UpfrontReason | null {
  if (body.params.max_length > maxTokens) {
    return {
      code: 'max_length',
      message: `Requests over ${maxTokens} tokens need kudos upfront while the horde is busy.`,
    };
  }
  if (!body.slow_workers) {
    return {
      code: 'fast_workers',
      message: 'Requests for fast workers only (slow_workers: false) need kudos upfront.',
    };
  }
  return null;
}

/**
 * The text request shrunk to the free tier: `max_length` cut to `maxTokens`. The spec only cuts
 * `max_length`; we also force `slow_workers` on, as image downgrades do, so a downgrade always suffices.
 */
export function downgradeText(body: TextGenerateBody, maxTokens: number): TextGenerateBody {
  const params = { ...body.params, max_length: Math.min(body.params.max_length, maxTokens) };
  return { ...body, params, slow_workers: true };
}
