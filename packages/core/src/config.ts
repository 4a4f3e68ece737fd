import type { ImageBaseline } from './models/types.js';

/**
 * Every number the engine applies. The defaults are the public AI Horde's (spec `ai-horde-v2.md`, Appendix A);
 * a community horde changes any of them through `createHorde({ config })`.
 */

export interface FloorConfig {
  /** @default -50 */
  anonymous: number;
  /** Registered with a username only. @default 14 */
  pseudonymous: number;
  /** Registered through a verified identity (OAuth, a linked chat platform the admin trusts). @default 25 */
  verified: number;
}

export interface PricingConfig {
  /** Activation tax paid by every request at submission. @default 1 */
  activationTax: number;
  /** Extra activation tax for image requests (upstream charges it on every image request). @default 2 */
  imageActivationTax: number;
  /** Activation tax per `extra_source_images` entry. @default 5 */
  extraSourceImageTax: number;
  /** Kudos burnt for every delivered job, on top of its price. @default 1 */
  jobBurn: number;
  /** Requester-side multiplier when the request has a source image. @default 1.3 */
  sourceImageFactor: number;
  /** Requester-side multiplier per upscaler post-processor. @default 1.05 */
  upscalerFactor: number;
  /** Requester-side multiplier for `slow_workers: false`. @default 1.2 */
  fastWorkersFactor: number;
  /** Requester-side multiplier for `worker_blacklist: true`. @default 1.1 */
  workerDenyListFactor: number;
  /** Added to an image job's price per LoRA. @default 3 */
  perLora: number;
  /** Added to an image job's price when any textual inversion is used. @default 1 */
  anyTextualInversion: number;
  /** Share of a generation reward held in escrow while the worker's owner is not trusted. @default 0.5 */
  untrustedEscrowShare: number;
  /** Share of an uptime reward held in escrow while the worker's owner is not trusted. @default 1 */
  untrustedUptimeEscrowShare: number;
  /**
   * hordekit's own image price formula (`docs/kudos.md`). `resolveConfig` merges one level deep, so a
   * patch replaces the whole object: pass `{ ...DEFAULT_CONFIG.pricing.imagePrice, stepPerSize: 0.03 }`.
   */
  imagePrice: ImagePriceModel;
  /** The text price and reward formulas (spec §2.3). Replaced as a whole, like `imagePrice`. */
  textPrice: TextPriceModel;
}

/**
 * The image job price (kudos for one image, before the model family's multiplier), spec §2.1's `wp.kudos`.
 * Upstream prices with a neural network whose weights are AGPL data; this is our own formula:
 *
 * ```
 * s         = (width × height / 512²) ^ pixelExponent          // work of one step relative to a 512² step
 * stepCost  = stepBase + stepPerSize × s
 * overhead  = overheadBase + overheadPerSize × s
 * price     = overhead + stepCost × effective steps            // accurate steps × denoise for img2img
 *           + source image, mask, hires-fix pass, ControlNet, post-processors, LoRAs, TIs
 * ```
 *
 * The defaults were fitted (least squares on log price, then rounded) to the eleven §2.1 reference rows
 * without LoRAs or post-processors; each row is within 1 % of upstream's price.
 */
export interface ImagePriceModel {
  /** `s = (w·h / 512²)^pixelExponent`; above 1 because attention grows faster than the pixel count. @default 1.75 */
  pixelExponent: number;
  /** Per-image cost that does not depend on the size (loading, scheduling, encoding the prompt). @default 1.85 */
  overheadBase: number;
  /** Per-image cost that grows with the size (VAE decode, memory traffic), per unit of `s`. @default 0.62 */
  overheadPerSize: number;
  /** Cost of one accurate step that does not depend on the size. @default 0.15 */
  stepBase: number;
  /** Cost of one accurate step per unit of `s`. @default 0.0225 */
  stepPerSize: number;
  /** Encoding a source image (img2img, inpainting, remix), per 512² of area. @default 0.9 */
  sourceImagePerArea: number;
  /** Handling an inpainting/outpainting mask, per 512² of area (not fitted: no reference row). @default 0.3 */
  maskPerArea: number;
  /** Hires fix's second pass runs `accurate steps × hires_fix_denoising_strength`, this when unset. @default 0.65 */
  hiresFixDefaultDenoise: number;
  /** Share of the per-image overhead the hires-fix pass pays again (latent upscale, second decode). @default 0.5 */
  hiresFixOverheadShare: number;
  /** ControlNet: `strength × (controlnetBase + controlnetStepShare × stepCost × effective steps)`. @default 5 */
  controlnetBase: number;
  /** The share of each step's cost the ControlNet network adds. @default 0.3 */
  controlnetStepShare: number;
  /** Upscalers, per megapixel (2^20 px) of upscaled output (not fitted; §2.1's x4 row is within 1 %). @default 0.65 */
  upscalerPerMegapixel: number;
  /** Face fixers (`GFPGAN`, `CodeFormers`, `GFPGANv1.3`, `RestoreFormer`), per image. @default 0.5 */
  faceFixer: number;
  /** `strip_background`, per image. @default 0.25 */
  stripBackground: number;
}

/** The text formulas of spec §2.3, with upstream's constants as defaults. */
export interface TextPriceModel {
  /** `ctx(C) = clamp(contextBase + contextGrowth^log2(C / contextUnit), contextMin, contextMax)`. @default 1.2 */
  contextBase: number;
  /** @default 2.2 */
  contextGrowth: number;
  /** @default 1024 */
  contextUnit: number;
  /** @default 0.1 */
  contextMin: number;
  /** @default 30 */
  contextMax: number;
  /** `bonus(P) = (max(P, sizeBonusFloorB) / sizeBonusFloorB)^sizeBonusExponent`. @default 13 */
  sizeBonusFloorB: number;
  /** @default 0.2 */
  sizeBonusExponent: number;
  /** Model size (billions of parameters) assumed when a request names no model. @default 13 */
  noModelParamsB: number;
  /** Estimate per job = `max_length × bonus × P × ctx(max_context_length) / estimateDivisor`. @default 100 */
  estimateDivisor: number;
  /** Worker reward = `tokens × bonus × P / rewardDivisor × ctx(C)`. @default 125 */
  rewardDivisor: number;
  /** Reward factor for a backend not in the validated list. @default 0.3 */
  unvalidatedBackendFactor: number;
  /** Reward per token and unit of `ctx(C)` for a model of unknown size on a trusted owner's worker. @default 0.027 */
  unknownModelPerToken: number;
  /** Characters counted as one token. @default 4 */
  charsPerToken: number;
  /** Token and context counts are raised to at least this. @default 20 */
  minTokens: number;
  /** Upfront amount per job = `max_length × Pmax / upfrontDivisor`. @default 21 */
  upfrontDivisor: number;
  /** Upfront amount per job when the request names no model. @default 20 */
  upfrontNoModels: number;
}

export interface FreeTierConfig {
  /** `max_res = clamp(base + perThread × threads − round(perQueued × queued), min, max)`. @default 1024 */
  imageBaseResolution: number;
  /** @default 10 */
  imagePerThread: number;
  /** @default 0.9 */
  imagePerQueuedJob: number;
  /** @default 576 */
  imageMinResolution: number;
  /** @default 1024 */
  imageMaxResolution: number;
  /** Accurate steps above which a request needs upfront kudos (models may set their own). @default 40 */
  imageMaxSteps: number;
  /** Accurate-step limit for LCM samplers and LoRAs. @default 10 */
  lcmMaxSteps: number;
  /** Accurate-step limit with a ControlNet. @default 20 */
  controlnetMaxSteps: number;
  /** Steps a downgraded request is cut to. @default 30 */
  downgradeSteps: number;
  /** `max_tokens = clamp(base + perThread × threads − round(perQueued × queued), min, max)`. @default 512 */
  textBaseTokens: number;
  /** @default 5 */
  textPerThread: number;
  /** @default 0.9 */
  textPerQueuedJob: number;
  /** @default 256 */
  textMinTokens: number;
  /** @default 512 */
  textMaxTokens: number;
  /**
   * `max_res` is raised to at least this for the model's family (large models are not usable smaller).
   * @default { stable_diffusion_2: 768, stable_diffusion_xl: 1024, stable_cascade: 1024, flux_1: 1024, qwen_image: 1024, z_image: 1024 }
   */
  imageBaselineMinResolution: Partial<Record<ImageBaseline, number>>;
  /** A downgrade never cuts steps below this. @default 5 */
  imageDowngradeMinSteps: number;
  /** A downgrade aims for at least this side's square area (512 → 512×512). @default 512 */
  imageDowngradeMinResolution: number;
}

export interface QueueConfig {
  /** Priority added to every waiting request per aging interval. @default 50 */
  agingAmount: number;
  /** @default 10_000 */
  agingIntervalMs: number;
  /** A request expires this long after its creation or its last pop. @default 1_200_000 (20 min) */
  requestExpiryMs: number;
  /** Expiry extension when an extra-slow worker pops. @default 3_600_000 (60 min) */
  extraSlowRequestExpiryMs: number;
  /** A request is faulted when this many of its jobs have failed. @default 3 */
  faultAfterFailures: number;
  /** Stale leases and expired requests are swept this often. @default 60_000 */
  sweepIntervalMs: number;
  /** Results stay at least this long after their delivery. @default 1_800_000 (30 min) */
  resultRetentionMs: number;
  /** Per-candidate checks a single pop may run before giving up (bounds pop latency). @default 2000 */
  popScanLimit: number;
  /** Prompts longer than this many whitespace-separated words are rejected. @default 7500 */
  maxPromptWords: number;
}

export interface JobConfig {
  /** Minimum lease of an image job, and the lease of every text job, in seconds. @default 150 */
  minTtlSeconds: number;
  /** Image TTL = base + perStep × accurate steps × pixels / 512². @default 30 */
  imageTtlBaseSeconds: number;
  /** @default 2 */
  imageTtlPerStep: number;
  /** @default 2 */
  controlnetTtlFactor: number;
  /** Flux, Qwen-Image and Z-Image models. @default 3 */
  heavyModelTtlFactor: number;
  /** @default 3 */
  extraSlowTtlFactor: number;
  /** Image batch size = `round(max_pixels / batchPixelsDivisor × amount / (w·h × pp × heavy))`. @default 3.5 */
  batchPixelsDivisor: number;
  /** `pp = 1 + batchPerPostProcessor × post-processors`. @default 0.4 */
  batchPerPostProcessor: number;
  /** `heavy` with a heavy post-processor or `transparent`. @default 1.8 */
  batchHeavyFactor: number;
}

export interface WorkerConfig {
  /** A worker is online when it popped within this window. @default 300_000 */
  onlineWindowMs: number;
  /** Worker speed is the mean of this many last samples. @default 20 */
  speedSamples: number;
  /** Speed of a new image worker, in pixelsteps per second. @default 1_000_000 */
  initialImageSpeed: number;
  /** Speed of a new text worker, in tokens per second. @default 1 */
  initialTextSpeed: number;
  /** Image workers slower than this (pixelsteps/s) do not get `slow_workers: false` requests. @default 500_000 */
  slowImageSpeed: number;
  /** Text workers slower than this (tokens/s) are slow, by model size: ≥20B, ≥13B, smaller. @default [3, 4, 5] */
  slowTextSpeeds: [number, number, number];
  /** Uptime reward period. @default 600_000 */
  uptimePeriodMs: number;
  /** Image uptime reward = base + perModel × models (+ lora bonus). @default 50 */
  imageUptimeBase: number;
  /** @default 2 */
  imageUptimePerModel: number;
  /** @default 30 */
  imageUptimeLoraBonus: number;
  /** Text uptime reward base = `textUptimeBase + textUptimePerKiloContext × min(ctx, max) / 1024`. @default 25 */
  textUptimeBase: number;
  /** @default 15 */
  textUptimePerKiloContext: number;
  /** @default 262_144 */
  textUptimeMaxContext: number;
  /** Factor for a model whose size is unknown. @default 0.5 */
  textUptimeUnknownModelFactor: number;
  /** Factor for a backend not in the validated list. @default 0.3 */
  textUptimeUnvalidatedFactor: number;
  /** Size factor = `max(P / textUptimeParamsDivisorB, textUptimeMinSizeFactor)`. @default 7 */
  textUptimeParamsDivisorB: number;
  /** @default 0.25 */
  textUptimeMinSizeFactor: number;
  /** More aborted jobs than this within the window put the worker in maintenance. @default 20 */
  autoMaintenanceAbortedJobs: number;
  /** @default 3_600_000 */
  autoMaintenanceWindowMs: number;
  /** @default 3 */
  maxWorkersUntrusted: number;
  /** @default 20 */
  maxWorkersTrusted: number;
  /**
   * Trust the `allow_*` flags of workers whose `bridge_agent` is not in the capability table, instead of
   * giving them no capabilities as the public horde does (custom workers would otherwise get no jobs).
   * @default true
   */
  permissiveUnknownBridges: boolean;
  /**
   * Let image workers serve models the model reference does not know (a community horde's own checkpoints).
   * The public horde drops them unless the owner is a `customizer`. @default true
   */
  acceptUnknownImageModels: boolean;
}

export interface AccountConfig {
  /** @default '0000000000' */
  anonymousKey: string;
  /** Accounts with administrator rights (grant kudos, make moderators). @default [] */
  adminIds: number[];
  /** @default 30 */
  defaultConcurrency: number;
  /** Shared by every anonymous request. @default 500 */
  anonymousConcurrency: number;
  /** @default 200 */
  educationConcurrency: number;
  /** A transfer is refused when the recipient sent kudos to the sender within this window. @default 60_000 */
  transferPingPongWindowMs: number;
}

export interface HordeConfig {
  floors: FloorConfig;
  pricing: PricingConfig;
  freeTier: FreeTierConfig;
  queue: QueueConfig;
  jobs: JobConfig;
  workers: WorkerConfig;
  accounts: AccountConfig;
}

export const DEFAULT_CONFIG: HordeConfig = {
  floors: { anonymous: -50, pseudonymous: 14, verified: 25 },
  pricing: {
    activationTax: 1,
    imageActivationTax: 2,
    extraSourceImageTax: 5,
    jobBurn: 1,
    sourceImageFactor: 1.3,
    upscalerFactor: 1.05,
    fastWorkersFactor: 1.2,
    workerDenyListFactor: 1.1,
    perLora: 3,
    anyTextualInversion: 1,
    untrustedEscrowShare: 0.5,
    untrustedUptimeEscrowShare: 1,
    // Fitted to spec §2.1's reference rows without LoRAs or post-processors: least squares on log price with
    // pixelExponent fixed at 1.75 and controlnetStepShare at 0.3, then rounded (see docs/kudos.md).
    imagePrice: {
      pixelExponent: 1.75,
      overheadBase: 1.85,
      overheadPerSize: 0.62,
      stepBase: 0.15,
      stepPerSize: 0.0225,
      sourceImagePerArea: 0.9,
      maskPerArea: 0.3,
      hiresFixDefaultDenoise: 0.65,
      hiresFixOverheadShare: 0.5,
      controlnetBase: 5,
      controlnetStepShare: 0.3,
      upscalerPerMegapixel: 0.65,
      faceFixer: 0.5,
      stripBackground: 0.25,
    },
    textPrice: {
      contextBase: 1.2,
      contextGrowth: 2.2,
      contextUnit: 1024,
      contextMin: 0.1,
      contextMax: 30,
      sizeBonusFloorB: 13,
      sizeBonusExponent: 0.2,
      noModelParamsB: 13,
      estimateDivisor: 100,
      rewardDivisor: 125,
      unvalidatedBackendFactor: 0.3,
      unknownModelPerToken: 0.027,
      charsPerToken: 4,
      minTokens: 20,
      upfrontDivisor: 21,
      upfrontNoModels: 20,
    },
  },
  freeTier: {
    imageBaseResolution: 1024,
    imagePerThread: 10,
    imagePerQueuedJob: 0.9,
    imageMinResolution: 576,
    imageMaxResolution: 1024,
    imageMaxSteps: 40,
    lcmMaxSteps: 10,
    controlnetMaxSteps: 20,
    downgradeSteps: 30,
    textBaseTokens: 512,
    textPerThread: 5,
    textPerQueuedJob: 0.9,
    textMinTokens: 256,
    textMaxTokens: 512,
    imageBaselineMinResolution: {
      stable_diffusion_2: 768,
      stable_diffusion_xl: 1024,
      stable_cascade: 1024,
      flux_1: 1024,
      qwen_image: 1024,
      z_image: 1024,
    },
    imageDowngradeMinSteps: 5,
    imageDowngradeMinResolution: 512,
  },
  queue: {
    agingAmount: 50,
    agingIntervalMs: 10_000,
    requestExpiryMs: 20 * 60_000,
    extraSlowRequestExpiryMs: 60 * 60_000,
    faultAfterFailures: 3,
    sweepIntervalMs: 60_000,
    resultRetentionMs: 30 * 60_000,
    popScanLimit: 2000,
    maxPromptWords: 7500,
  },
  jobs: {
    minTtlSeconds: 150,
    imageTtlBaseSeconds: 30,
    imageTtlPerStep: 2,
    controlnetTtlFactor: 2,
    heavyModelTtlFactor: 3,
    extraSlowTtlFactor: 3,
    batchPixelsDivisor: 3.5,
    batchPerPostProcessor: 0.4,
    batchHeavyFactor: 1.8,
  },
  workers: {
    onlineWindowMs: 300_000,
    speedSamples: 20,
    initialImageSpeed: 1_000_000,
    initialTextSpeed: 1,
    slowImageSpeed: 500_000,
    slowTextSpeeds: [3, 4, 5],
    uptimePeriodMs: 600_000,
    imageUptimeBase: 50,
    imageUptimePerModel: 2,
    imageUptimeLoraBonus: 30,
    textUptimeBase: 25,
    textUptimePerKiloContext: 15,
    textUptimeMaxContext: 262_144,
    textUptimeUnknownModelFactor: 0.5,
    textUptimeUnvalidatedFactor: 0.3,
    textUptimeParamsDivisorB: 7,
    textUptimeMinSizeFactor: 0.25,
    autoMaintenanceAbortedJobs: 20,
    autoMaintenanceWindowMs: 3_600_000,
    maxWorkersUntrusted: 3,
    maxWorkersTrusted: 20,
    permissiveUnknownBridges: true,
    acceptUnknownImageModels: true,
  },
  accounts: {
    anonymousKey: '0000000000',
    adminIds: [],
    defaultConcurrency: 30,
    anonymousConcurrency: 500,
    educationConcurrency: 200,
    transferPingPongWindowMs: 60_000,
  },
};

/** Any subset of {@link HordeConfig}, one level deep per section. */
export type HordeConfigInput = { [S in keyof HordeConfig]?: Partial<HordeConfig[S]> };

export function resolveConfig(input: HordeConfigInput = {}): HordeConfig {
  const out = structuredClone(DEFAULT_CONFIG);
  for (const section of Object.keys(out) as (keyof HordeConfig)[]) {
    const patch = input[section];
    if (patch) Object.assign(out[section], patch);
  }
  return out;
}
