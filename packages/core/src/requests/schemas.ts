/**
 * The request bodies of the AI Horde v2 API as zod schemas: one source of truth for the engine's
 * validation and the server's OpenAPI document. Field names are the wire names. Defaults are the ones the
 * public horde really applies (spec §1.1/§1.2, the ⚠ rows), not its swagger defaults. Unknown keys are
 * dropped, as upstream ignores them. Cross-field rules with their own `rc` live in `validate.ts`.
 */
import { z } from 'zod';

export const SAMPLERS = [
  'k_lms',
  'k_heun',
  'k_euler',
  'k_euler_a',
  'k_dpm_2',
  'k_dpm_2_a',
  'k_dpm_fast',
  'k_dpm_adaptive',
  'k_dpmpp_2s_a',
  'k_dpmpp_2m',
  'dpmsolver',
  'k_dpmpp_sde',
  'DDIM',
  'lcm',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Samplers that evaluate the model twice per step: their "accurate steps" are twice the steps. */
export const SECOND_ORDER_SAMPLERS: ReadonlySet<string> = new Set([
  'k_heun',
  'k_dpm_2',
  'k_dpm_2_a',
  'k_dpmpp_2s_a',
  'k_dpmpp_sde',
]);

export const UPSCALERS = [
  'RealESRGAN_x4plus',
  'RealESRGAN_x2plus',
  'RealESRGAN_x4plus_anime_6B',
  'NMKD_Siax',
  '4x_AnimeSharp',
  '4xNomos8kSC',
  '4xLSDIRplus',
  '4xNomosWebPhoto_RealPLKSR',
  '4xNomos2_realplksr_dysample',
  '4xNomos2_hq_dat2',
  '2xModernSpanimationV1',
] as const;
export const FACE_FIXERS = ['GFPGAN', 'CodeFormers', 'GFPGANv1.3', 'RestoreFormer'] as const;
export const POST_PROCESSORS = [...UPSCALERS, ...FACE_FIXERS, 'strip_background'] as const;
export type PostProcessor = (typeof POST_PROCESSORS)[number];

export const CONTROL_TYPES = [
  'canny',
  'hed',
  'depth',
  'normal',
  'openpose',
  'seg',
  'scribble',
  'fakescribbles',
  'hough',
] as const;
export type ControlType = (typeof CONTROL_TYPES)[number];

export const SOURCE_PROCESSING = ['img2img', 'inpainting', 'outpainting', 'remix'] as const;
export type SourceProcessing = (typeof SOURCE_PROCESSING)[number];

export const GENERATION_STATES = ['ok', 'faulted', 'censored', 'csam'] as const;
export type GenerationState = (typeof GENERATION_STATES)[number];

const webhook = z.string().min(10).max(1024);
const workerIds = z.array(z.string().min(1).max(64)).max(20);

export const LoraSchema = z.object({
  name: z.string().min(1).max(255),
  model: z.number().min(-5).max(5).default(1),
  clip: z.number().min(-5).max(5).default(1),
  inject_trigger: z.string().min(1).max(30).optional(),
  is_version: z.boolean().default(false),
});
export type Lora = z.output<typeof LoraSchema>;

export const TextualInversionSchema = z.object({
  name: z.string().min(1).max(255),
  inject_ti: z.enum(['prompt', 'negprompt']).optional(),
  strength: z.number().min(-5).max(5).default(1),
});
export type TextualInversion = z.output<typeof TextualInversionSchema>;

export const ImageParamsSchema = z.object({
  sampler_name: z.enum(SAMPLERS).default('k_euler_a'),
  cfg_scale: z.number().min(0).max(100).default(5),
  denoising_strength: z.number().min(0.01).max(1).optional(),
  hires_fix_denoising_strength: z.number().min(0.01).max(1).optional(),
  width: z.number().int().min(64).max(3072).multipleOf(64).default(512),
  height: z.number().int().min(64).max(3072).multipleOf(64).default(512),
  /** Defaults to 30, or 20 with a `control_type` (applied in `validate.ts`). */
  steps: z.number().int().min(1).max(500).optional(),
  n: z.number().int().min(1).max(20).default(1),
  seed: z.string().max(256).optional(),
  seed_variation: z.number().int().min(1).max(1000).optional(),
  post_processing: z.array(z.enum(POST_PROCESSORS)).max(POST_PROCESSORS.length).default([]),
  post_processing_order: z.enum(['facefixers_first', 'upscalers_first']).optional(),
  karras: z.boolean().default(true),
  tiling: z.boolean().default(false),
  hires_fix: z.boolean().default(false),
  clip_skip: z.number().int().min(1).max(12).optional(),
  facefixer_strength: z.number().min(0).max(1).optional(),
  loras: z.array(LoraSchema).max(20).default([]),
  tis: z.array(TextualInversionSchema).max(40).default([]),
  special: z.record(z.string(), z.unknown()).optional(),
  workflow: z.enum(['qr_code']).optional(),
  transparent: z.boolean().optional(),
  control_type: z.enum(CONTROL_TYPES).optional(),
  control_strength: z.number().min(0).max(1).optional(),
  image_is_control: z.boolean().optional(),
  return_control_map: z.boolean().optional(),
  extra_texts: z
    .array(z.object({ text: z.string().min(1).max(1000), reference: z.string().min(3).max(64) }))
    .max(10)
    .optional(),
});

export const ExtraSourceImageSchema = z.object({
  image: z.string().min(1),
  strength: z.number().min(0).max(1).default(1),
});

/** `POST /generate/async`. */
export const ImageGenerateSchema = z.object({
  prompt: z.string().min(1),
  params: ImageParamsSchema.prefault({}),
  nsfw: z.boolean().default(true),
  censor_nsfw: z.boolean().default(true),
  trusted_workers: z.boolean().default(false),
  validated_backends: z.boolean().default(false),
  slow_workers: z.boolean().default(true),
  extra_slow_workers: z.boolean().default(false),
  workers: workerIds.default([]),
  worker_blacklist: z.boolean().default(false),
  /** Omitted means `["stable_diffusion"]`; `[]` means any model. */
  models: z.array(z.string().min(1).max(255)).max(100).default(['stable_diffusion']),
  source_image: z.string().min(1).optional(),
  source_processing: z.enum(SOURCE_PROCESSING).default('img2img'),
  source_mask: z.string().min(1).optional(),
  extra_source_images: z.array(ExtraSourceImageSchema).max(20).optional(),
  r2: z.boolean().default(true),
  shared: z.boolean().default(false),
  replacement_filter: z.boolean().default(true),
  dry_run: z.boolean().default(false),
  proxied_account: z.string().min(1).max(255).optional(),
  disable_batching: z.boolean().default(false),
  allow_downgrade: z.boolean().default(false),
  webhook: webhook.optional(),
  style: z.string().min(3).max(1024).optional(),
});
export type ImageGenerateInput = z.input<typeof ImageGenerateSchema>;
export type ImageGenerateBody = z.output<typeof ImageGenerateSchema>;
export type ImageParams = ImageGenerateBody['params'];

export const TextParamsSchema = z.object({
  n: z.number().int().min(1).max(20).default(1),
  max_context_length: z.number().int().min(80).max(1_048_576).default(2048),
  max_length: z.number().int().min(16).max(4096).default(80),
  frmtadsnsp: z.boolean().optional(),
  frmtrmblln: z.boolean().optional(),
  frmtrmspch: z.boolean().optional(),
  frmttriminc: z.boolean().optional(),
  singleline: z.boolean().optional(),
  rep_pen: z.number().min(1).max(3).optional(),
  rep_pen_range: z.number().int().min(0).max(4096).optional(),
  rep_pen_slope: z.number().min(0).max(10).optional(),
  temperature: z.number().min(0).max(5).optional(),
  tfs: z.number().min(0).max(1).optional(),
  top_a: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).max(200).optional(),
  top_p: z.number().min(0.001).max(1).optional(),
  typical: z.number().min(0).max(1).optional(),
  sampler_order: z.array(z.number().int().min(0).max(10)).max(20).optional(),
  use_default_badwordsids: z.boolean().optional(),
  stop_sequence: z.array(z.string()).optional(),
  min_p: z.number().min(0).max(1).optional(),
  smoothing_factor: z.number().min(0).max(10).optional(),
  dynatemp_range: z.number().min(0).max(5).optional(),
  dynatemp_exponent: z.number().min(0).max(5).optional(),
});

/** `POST /generate/text/async`. */
export const TextGenerateSchema = z.object({
  prompt: z.string().min(1),
  params: TextParamsSchema.prefault({}),
  softprompt: z.string().max(255).optional(),
  trusted_workers: z.boolean().default(false),
  validated_backends: z.boolean().default(false),
  slow_workers: z.boolean().default(true),
  extra_slow_workers: z.boolean().default(false),
  workers: workerIds.default([]),
  worker_blacklist: z.boolean().default(false),
  /** `[]` (the default) means any model. */
  models: z.array(z.string().min(1).max(255)).max(100).default([]),
  extra_source_images: z.array(ExtraSourceImageSchema).optional(),
  dry_run: z.boolean().default(false),
  proxied_account: z.string().min(1).max(255).optional(),
  disable_batching: z.boolean().default(false),
  allow_downgrade: z.boolean().default(false),
  webhook: webhook.optional(),
  style: z.string().min(3).max(1024).optional(),
});
export type TextGenerateInput = z.input<typeof TextGenerateSchema>;
export type TextGenerateBody = z.output<typeof TextGenerateSchema>;
export type TextParams = TextGenerateBody['params'];

const popCommon = {
  name: z.string().min(1).max(200),
  priority_usernames: z.array(z.string().min(1).max(100)).max(100).default([]),
  nsfw: z.boolean().default(true),
  models: z.array(z.string().min(1)).max(300).default([]),
  bridge_agent: z.string().max(1000).default('unknown:0:unknown'),
  threads: z.number().int().min(1).max(50).default(1),
  require_upfront_kudos: z.boolean().default(false),
  amount: z.number().int().min(1).max(20).default(1),
  extra_slow_worker: z.boolean().default(false),
};

/** `POST /generate/pop`. */
export const ImagePopSchema = z.object({
  ...popCommon,
  max_pixels: z
    .number()
    .int()
    .min(0)
    .max(3072 * 3072 * 4)
    .default(262_144),
  blacklist: z.array(z.string().max(64)).max(200).default([]),
  allow_img2img: z.boolean().default(true),
  allow_painting: z.boolean().default(true),
  allow_unsafe_ipaddr: z.boolean().default(true),
  allow_post_processing: z.boolean().default(true),
  allow_controlnet: z.boolean().default(false),
  allow_sdxl_controlnet: z.boolean().default(false),
  allow_lora: z.boolean().default(false),
  limit_max_steps: z.boolean().default(false),
});
export type ImagePopInput = z.input<typeof ImagePopSchema>;
export type ImagePopBody = z.output<typeof ImagePopSchema>;

/** `POST /generate/text/pop`. */
export const TextPopSchema = z.object({
  ...popCommon,
  max_length: z.number().int().min(1).max(1_048_576).default(512),
  max_context_length: z.number().int().min(1).max(1_048_576).default(2048),
  softprompts: z.array(z.string().max(255)).max(1000).default([]),
  blacklist: z.array(z.string().max(64)).max(200).default([]),
});
export type TextPopInput = z.input<typeof TextPopSchema>;
export type TextPopBody = z.output<typeof TextPopSchema>;

export const GenMetadataSchema = z.object({
  type: z.string().min(1).max(64),
  value: z.string().min(1).max(64),
  ref: z.string().max(255).optional(),
});
export type GenMetadata = z.output<typeof GenMetadataSchema>;

/** `POST /generate/submit`. */
export const ImageSubmitSchema = z.object({
  id: z.string().min(1).max(64),
  generation: z.string(),
  state: z.enum(GENERATION_STATES).default('ok'),
  seed: z.number().int(),
  censored: z.boolean().optional(),
  gen_metadata: z.array(GenMetadataSchema).max(50).optional(),
});
export type ImageSubmitInput = z.input<typeof ImageSubmitSchema>;
export type ImageSubmitBody = z.output<typeof ImageSubmitSchema>;

/** `POST /generate/text/submit`. */
export const TextSubmitSchema = z.object({
  id: z.string().min(1).max(64),
  generation: z.string(),
  state: z.enum(GENERATION_STATES).default('ok'),
  seed: z.number().int().default(0),
  gen_metadata: z.array(GenMetadataSchema).max(50).optional(),
});
export type TextSubmitInput = z.input<typeof TextSubmitSchema>;
export type TextSubmitBody = z.output<typeof TextSubmitSchema>;

/** `POST /kudos/transfer`. */
export const TransferSchema = z.object({
  username: z.string().min(1).max(255),
  amount: z.number().default(100),
});
export type TransferInput = z.input<typeof TransferSchema>;

/** Account changes (`PUT /users/{id}`, engine names); who may make each is decided by the engine. */
export const AccountChangesSchema = z.object({
  kudos: z.number().min(-1_000_000_000).max(1_000_000_000).optional(),
  moderator: z.boolean().optional(),
  concurrency: z.number().int().min(0).max(500).optional(),
  trusted: z.boolean().optional(),
  flagged: z.boolean().optional(),
  customizer: z.boolean().optional(),
  vpn: z.boolean().optional(),
  service: z.boolean().optional(),
  education: z.boolean().optional(),
  special: z.boolean().optional(),
  username: z.string().max(100).optional(),
  contact: z.string().min(5).max(500).nullable().optional(),
  publicWorkers: z.boolean().optional(),
  deleted: z.boolean().optional(),
});
export type AccountChangesInput = z.input<typeof AccountChangesSchema>;

/** Worker changes (`PUT /workers/{id}`). */
export const WorkerChangesSchema = z.object({
  maintenance: z.boolean().optional(),
  maintenance_msg: z.string().max(500).optional(),
  info: z.string().max(1000).optional(),
  name: z.string().min(5).max(100).optional(),
  paused: z.boolean().optional(),
});
export type WorkerChangesInput = z.input<typeof WorkerChangesSchema>;
