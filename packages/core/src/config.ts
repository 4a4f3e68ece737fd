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
}

export interface AccountConfig {
  /** @default '0000000000' */
  anonymousKey: string;
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
  },
  queue: {
    agingAmount: 50,
    agingIntervalMs: 10_000,
    requestExpiryMs: 20 * 60_000,
    extraSlowRequestExpiryMs: 60 * 60_000,
    faultAfterFailures: 3,
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
    autoMaintenanceAbortedJobs: 20,
    autoMaintenanceWindowMs: 3_600_000,
    maxWorkersUntrusted: 3,
    maxWorkersTrusted: 20,
    permissiveUnknownBridges: true,
  },
  accounts: {
    anonymousKey: '0000000000',
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
