/**
 * The backend port: what the worker loop asks of a local generator. The loop owns the horde protocol
 * (pop, upload, submit, retries); a backend owns one local API (AUTOMATIC1111, ComfyUI, KoboldCpp, …) and
 * maps the horde job onto it. Backends never see the horde's wire shapes: `ImageJob` and `TextJob` are
 * already normalised (negative prompt split off, seed a number, source images as bytes).
 */

/** Horde features a job can ask for that a backend may or may not do. */
export interface ImageFeatures {
  /** `source_processing: img2img` / `remix` with a source image (advertised as `allow_img2img`). */
  img2img: boolean;
  /** `inpainting` / `outpainting` with a mask (advertised as `allow_painting`). */
  inpainting: boolean;
  /** `loras` (advertised as `allow_lora`). */
  lora: boolean;
  /** `post_processing` upscalers and face fixers (advertised as `allow_post_processing`). */
  postProcessing: boolean;
  /** The following cannot be declared in a pop; a backend without them runs the job without the feature. */
  karras: boolean;
  tiling: boolean;
  clipSkip: boolean;
  hiresFix: boolean;
  /** `n_iter` > 1 in one backend call; without it the loop calls the backend once per image. */
  batch: boolean;
}

/** A LoRA as the horde sends it (`name` is a CivitAI id or name; `model`/`clip` strengths). */
export interface LoraRequest {
  name: string;
  model: number;
  clip: number;
  isVersion: boolean;
}

export type SourceProcessing = 'img2img' | 'inpainting' | 'outpainting' | 'remix';

/** One image job, normalised from the pop payload. */
export interface ImageJob {
  /** The horde job id of the first image (for logs). */
  id: string;
  /** The model the horde picked for this job. */
  model: string;
  prompt: string;
  /** The part of the horde prompt after ` ### `, or ''. */
  negativePrompt: string;
  width: number;
  height: number;
  steps: number;
  cfgScale: number;
  /** The horde sampler name (`k_euler_a`, `k_dpmpp_2m`, `DDIM`, `lcm`, …). */
  sampler: string;
  karras: boolean;
  /** The seed of the first image; image i uses `seed + i` unless the backend batches it itself. */
  seed: number;
  /** Images to make (`n_iter`), 1–20. */
  count: number;
  /** 0–1, for img2img and painting; undefined without a source image. */
  denoisingStrength?: number;
  clipSkip: number;
  tiling: boolean;
  hiresFix: boolean;
  hiresFixDenoisingStrength?: number;
  /** Decoded source image (any format the backend or sharp reads), with the processing asked for. */
  source?: { image: Buffer; processing: SourceProcessing; mask?: Buffer };
  loras: LoraRequest[];
  /** Upscalers / face fixers in horde names (`RealESRGAN_x4plus`, `GFPGAN`, `CodeFormers`, …). */
  postProcessing: string[];
  facefixerStrength?: number;
}

/** Generation metadata as the horde reads it (`gen_metadata` entries of the submit). */
export interface GenMetadataEntry {
  type: string;
  value: string;
  ref?: string;
}

export interface GeneratedImage {
  /** Encoded image bytes (PNG, JPEG or WebP); the loop re-encodes to WebP unless it already is. */
  data: Buffer;
  seed: number;
  /** Extra `gen_metadata` entries (a LoRA the backend could not load, a feature it ignored, …). */
  metadata?: GenMetadataEntry[];
}

/** What a running job can tell the display. */
export interface JobContext {
  /** Aborted when the job overran its time or the worker is stopping at once. */
  signal: AbortSignal;
  /** Progress as a fraction 0–1, when the backend reports it. */
  progress(fraction: number): void;
}

export interface ImageBackend {
  /** Short name for logs and the bridge agent (`a1111`, `comfyui`, `openai-images`, `demo`). */
  readonly kind: string;
  readonly features: ImageFeatures;
  /** The largest width × height the backend should be sent (defaults to the worker's `max_pixels`). */
  readonly maxPixels?: number;
  /** The horde model names this backend serves now (what the worker advertises in `models`). */
  models(): Promise<string[]>;
  /** `job.count` images, in order. Throws (any error) when generation failed: the job is submitted faulted. */
  generate(job: ImageJob, context: JobContext): Promise<GeneratedImage[]>;
  close?(): Promise<void>;
}

/**
 * One text job: the horde's Kobold-style payload, passed through. Field names are KoboldAI's
 * (`max_length`, `max_context_length`, `temperature`, `top_p`, `top_k`, `top_a`, `typical`, `tfs`,
 * `rep_pen`, `rep_pen_range`, `rep_pen_slope`, `stop_sequence`, `sampler_order`, …).
 */
export interface TextJob {
  id: string;
  model: string;
  prompt: string;
  maxLength: number;
  maxContextLength: number;
  /** The rest of the payload, Kobold field names, unvalidated beyond being JSON. */
  params: Record<string, unknown>;
}

export interface GeneratedText {
  text: string;
  seed?: number;
  metadata?: GenMetadataEntry[];
}

export interface TextBackend {
  /** `koboldcpp`, `openai-completions`, `demo`. */
  readonly kind: string;
  /** The largest generation and context the backend accepts (advertised as `max_length` / `max_context_length`). */
  readonly maxLength: number;
  readonly maxContextLength: number;
  models(): Promise<string[]>;
  generate(job: TextJob, context: JobContext): Promise<GeneratedText>;
  close?(): Promise<void>;
}

/** A backend that answered with an error: the message is safe to show the worker's owner. */
export class BackendError extends Error {
  override name = 'BackendError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
