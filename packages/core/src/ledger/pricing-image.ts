/**
 * What an image job costs: its price in kudos (`wp.kudos`, spec §2.1, computed with our own formula), what
 * the requester is charged per delivered job (§2.2 `burn`), the activation tax and the dry-run estimate.
 * Pure functions; every number comes from `PricingConfig`. The formula is explained in `docs/kudos.md`.
 */
import { DEFAULT_CONFIG, type ImagePriceModel, type PricingConfig } from '../config.js';
import {
  FACE_FIXERS,
  type ImageGenerateBody,
  SECOND_ORDER_SAMPLERS,
  UPSCALERS,
} from '../requests/schemas.js';
import { roundKudos } from './money.js';

/** The default image price formula (`DEFAULT_CONFIG.pricing.imagePrice`); tune a copy through the config. */
export const IMAGE_PRICE_MODEL: Readonly<ImagePriceModel> = DEFAULT_CONFIG.pricing.imagePrice;

/** `k_dpm_adaptive` picks its own step count; the horde accounts it as this many accurate steps. */
export const ADAPTIVE_SAMPLER_STEPS = 40;

/** Steps assumed when a body was not validated (validation resolves them to 30, or 20 with ControlNet). */
const UNRESOLVED_STEPS = 30;

const REFERENCE_AREA = 512 * 512;
const MEGAPIXEL = 1024 * 1024;
const UPSCALER_NAMES: ReadonlySet<string> = new Set(UPSCALERS);
const FACE_FIXER_NAMES: ReadonlySet<string> = new Set(FACE_FIXERS);
const TWO_X_UPSCALERS: ReadonlySet<string> = new Set(['RealESRGAN_x2plus', '2xModernSpanimationV1']);

/**
 * Model evaluations the job runs, in steps: the requested steps, twice that for second-order samplers
 * (`k_heun`, `k_dpm_2`, `k_dpm_2_a`, `k_dpmpp_2s_a`, `k_dpmpp_sde`), a fixed 40 for `k_dpm_adaptive`.
 */
export function accurateSteps(body: ImageGenerateBody): number {
  const sampler = body.params.sampler_name;
  if (sampler === 'k_dpm_adaptive') return ADAPTIVE_SAMPLER_STEPS;
  const steps = requestedSteps(body);
  return SECOND_ORDER_SAMPLERS.has(sampler) ? steps * 2 : steps;
}

/** `params.steps`, or 30 for a body that did not go through validation. */
export function requestedSteps(body: ImageGenerateBody): number {
  return body.params.steps ?? UNRESOLVED_STEPS;
}

/** Pixelsteps of one job (`width × height × accurate steps`): the unit of worker speed and statistics. */
export function imageThings(body: ImageGenerateBody): number {
  return body.params.width * body.params.height * accurateSteps(body);
}

/** How much an upscaler multiplies each side: 2 for `RealESRGAN_x2plus` and `2xModernSpanimationV1`, else 4. */
export function upscaleFactor(upscaler: string): number {
  return TWO_X_UPSCALERS.has(upscaler) ? 2 : 4;
}

/** The terms of an image job's price, each in kudos, so a price can be explained line by line. */
export interface ImagePriceTerms {
  /** Per-image overhead at this size. */
  overhead: number;
  /** Sampling: cost of one step at this size × effective steps. */
  sampling: number;
  /** Encoding the source image. */
  sourceImage: number;
  /** Inpainting/outpainting mask. */
  mask: number;
  /** The hires-fix second pass. */
  hiresFix: number;
  controlnet: number;
  postProcessing: number;
  loras: number;
  textualInversions: number;
}

/**
 * The price terms of one job of `body` (see `ImagePriceModel` for the formula). Every term is
 * non-decreasing in the pixel count and in the steps, so the price is too.
 */
export function imagePriceTerms(body: ImageGenerateBody, pricing: PricingConfig): ImagePriceTerms {
  const m = pricing.imagePrice;
  const p = body.params;
  const area = (p.width * p.height) / REFERENCE_AREA;
  const size = area ** m.pixelExponent;
  const overhead = m.overheadBase + m.overheadPerSize * size;
  const stepCost = m.stepBase + m.stepPerSize * size;
  const steps = accurateSteps(body);
  const hasSource = body.source_image !== undefined;
  const hasControl = p.control_type !== undefined;
  // img2img only re-noises `denoising_strength` of the image; with a ControlNet the source image is the
  // control map and the sampler runs every step.
  const denoise = hasSource && !hasControl ? (p.denoising_strength ?? 1) : 1;
  const effectiveSteps = steps * denoise;
  const sampling = stepCost * effectiveSteps;
  const masked =
    body.source_mask !== undefined ||
    (hasSource && (body.source_processing === 'inpainting' || body.source_processing === 'outpainting'));
  // Upstream prices an unset control_strength with the denoising strength (it feeds the same input).
  const controlStrength = p.control_strength ?? p.denoising_strength ?? 1;
  return {
    overhead,
    sampling,
    sourceImage: hasSource ? m.sourceImagePerArea * area : 0,
    mask: masked ? m.maskPerArea * area : 0,
    hiresFix: p.hires_fix
      ? m.hiresFixOverheadShare * overhead +
        stepCost * steps * (p.hires_fix_denoising_strength ?? m.hiresFixDefaultDenoise)
      : 0,
    controlnet: hasControl ? controlStrength * (m.controlnetBase + m.controlnetStepShare * sampling) : 0,
    postProcessing: postProcessingCost(p.post_processing, p.width * p.height, m),
    loras: pricing.perLora * p.loras.length,
    textualInversions: p.tis.length > 0 ? pricing.anyTextualInversion : 0,
  };
}

function postProcessingCost(postProcessors: readonly string[], pixels: number, m: ImagePriceModel): number {
  let cost = 0;
  for (const pp of postProcessors) {
    if (UPSCALER_NAMES.has(pp)) {
      cost += (m.upscalerPerMegapixel * pixels * upscaleFactor(pp) ** 2) / MEGAPIXEL;
    } else if (FACE_FIXER_NAMES.has(pp)) {
      cost += m.faceFixer;
    } else if (pp === 'strip_background') {
      cost += m.stripBackground;
    }
  }
  return cost;
}

/**
 * The price of one image job in kudos (upstream's `wp.kudos`), before the model family's multiplier,
 * rounded to 2 decimals. The basis job (512², 50 steps, `k_euler`) costs 11.
 */
export function imageJobKudos(body: ImageGenerateBody, pricing: PricingConfig): number {
  const terms = imagePriceTerms(body, pricing);
  let total = 0;
  for (const value of Object.values(terms)) total += value;
  return roundKudos(total);
}

/** §2.2 `burn(k)` before the request-wide factors: source image and upscalers scale it, +jobBurn. */
function burn(genKudos: number, body: ImageGenerateBody, pricing: PricingConfig): number {
  let charged = body.source_image !== undefined ? genKudos * pricing.sourceImageFactor : genKudos;
  for (const pp of body.params.post_processing) {
    if (UPSCALER_NAMES.has(pp)) charged *= pricing.upscalerFactor;
  }
  return requestFactors(charged + pricing.jobBurn, body, pricing);
}

function requestFactors(kudos: number, body: ImageGenerateBody, pricing: PricingConfig): number {
  let charged = kudos;
  if (!body.slow_workers) charged *= pricing.fastWorkersFactor;
  if (body.worker_blacklist) charged *= pricing.workerDenyListFactor;
  return charged;
}

/**
 * What the requester is charged for one delivered job (spec §2.2): `jobKudos × baselineMultiplier`, ×1.3
 * with a source image, ×1.05 per upscaler, +1 burnt, then ×1.2 for `slow_workers: false` and ×1.1 for a
 * worker deny-list. The surcharges are burnt; the worker is paid `jobKudos × baselineMultiplier`.
 */
export function imageJobCost(
  jobKudos: number,
  baselineMultiplier: number,
  body: ImageGenerateBody,
  pricing: PricingConfig,
): number {
  return roundKudos(burn(jobKudos * baselineMultiplier, body, pricing));
}

/** A censored job costs the requester only the burn (`burn(0)`); the worker is still paid in full. */
export function imageCensoredCost(body: ImageGenerateBody, pricing: PricingConfig): number {
  return roundKudos(requestFactors(pricing.jobBurn, body, pricing));
}

/**
 * The `dry_run` estimate, also the amount reserved by an upfront-kudos check (spec §2.2):
 * `round(burn(jobKudos) × n × M + activationTax)`, where `M` is the multiplier of the *first* requested
 * model's family. With `models: []` the caller passes SDXL's multiplier (2), as upstream assumes. Upstream
 * applies `M` after the burn, so the estimate differs slightly from the real charge; we keep that.
 */
export function imageDryRun(
  body: ImageGenerateBody,
  jobKudos: number,
  firstModelMultiplier: number,
  pricing: PricingConfig,
): number {
  return Math.round(
    burn(jobKudos, body, pricing) * body.params.n * firstModelMultiplier + pricing.activationTax,
  );
}

/**
 * The activation tax charged when an image request is accepted: `activationTax + imageActivationTax`
 * (upstream charges the +2 on every image request) `+ extraSourceImageTax` per extra source image.
 */
export function imageActivationTax(body: ImageGenerateBody, pricing: PricingConfig): number {
  const extraSources = body.extra_source_images?.length ?? 0;
  return pricing.activationTax + pricing.imageActivationTax + pricing.extraSourceImageTax * extraSources;
}
