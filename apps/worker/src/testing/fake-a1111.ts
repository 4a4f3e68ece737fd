/**
 * A fake AUTOMATIC1111 / Forge web UI API (`--api`) on loopback, for the A1111 backend's tests and the
 * worker's end-to-end tests. Shapes follow A1111 1.10: `/sdapi/v1/sd-models`, `options`, `loras`,
 * `upscalers`, `samplers`, `txt2img`, `img2img`, `progress`, `interrupt`, `extra-single-image`; errors as
 * its API middleware sends them (`{error, detail, body, errors}`).
 *
 * Generations, checkpoint loads and extras run one at a time, as A1111's `queue_lock` makes them. As in
 * A1111, `POST /options` changes the `sd_model_checkpoint` option at once but loads the checkpoint when the
 * lock is free, and a generation loads whatever the option names when it starts. Each "generated" image is
 * a solid colour derived from its seed (`fakePng`), so a test can tell seeds apart.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { type HttpFake, type RecordedCall, startHttpFake } from './http-fake.js';

/** A deterministic stand-in for a generated image: `width`×`height`, one colour picked by seed and index. */
export async function fakePng(width: number, height: number, seed: number, index = 0): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: fakeColour(seed, index) } })
    .png()
    .toBuffer();
}

/** The colour `fakePng` paints for `seed` and batch `index`. */
export function fakeColour(seed: number, index = 0): { r: number; g: number; b: number } {
  const digest = createHash('sha256').update(`${seed}:${index}`).digest();
  return { r: digest[0] ?? 0, g: digest[1] ?? 0, b: digest[2] ?? 0 };
}

export interface FakeA1111Options {
  /** Checkpoint file names; the first is loaded at start. @default ['v1-5-pruned-emaonly.safetensors'] */
  checkpoints?: string[];
  /** LoRA names, or `{name, alias}` when the file's alias (its `ss_output_name`) differs. @default [] */
  loras?: (string | { name: string; alias: string })[];
  /** Upscaler names besides `None`, `Lanczos` and `Nearest`. @default the R-ESRGAN family */
  upscalers?: string[];
  /** Time per sampling step: a generation "runs" for `steps × stepDelayMs`. @default 0 */
  stepDelayMs?: number;
  /** How long loading a checkpoint takes. @default 0 */
  switchDelayMs?: number;
}

/** One txt2img / img2img call as the fake ran it. */
export interface FakeA1111Generation {
  route: 'txt2img' | 'img2img';
  /** The checkpoint title loaded while it ran. */
  checkpoint: string;
  body: Record<string, unknown>;
  interrupted: boolean;
}

/** One `POST /options` that changed `sd_model_checkpoint`. */
export interface FakeA1111Switch {
  checkpoint: string;
  /** A generation was running when the switch was asked for (what a careful client avoids). */
  duringGeneration: boolean;
}

export interface FakeA1111 extends HttpFake {
  /** The title of the loaded checkpoint (`name.safetensors [hash]`). */
  readonly checkpoint: string;
  readonly generations: FakeA1111Generation[];
  readonly switches: FakeA1111Switch[];
  /** The title A1111 gives a checkpoint file (what `sd_model_checkpoint` holds). */
  titleOf(fileName: string): string;
}

/** Sampler names of A1111 1.10 (`/sdapi/v1/samplers`); anything else is "Sampler not found". */
export const A1111_SAMPLERS = [
  'DPM++ 2M',
  'DPM++ SDE',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Heun',
  'DPM++ 2S a',
  'DPM++ 3M SDE',
  'Euler a',
  'Euler',
  'LMS',
  'Heun',
  'DPM2',
  'DPM2 a',
  'DPM fast',
  'DPM adaptive',
  'Restart',
  'DDIM',
  'DDIM CFG++',
  'PLMS',
  'UniPC',
  'LCM',
];

const DEFAULT_UPSCALERS = [
  'R-ESRGAN 4x+',
  'R-ESRGAN 4x+ Anime6B',
  'R-ESRGAN 2x+',
  'R-ESRGAN General 4xV3',
  'ESRGAN_4x',
];

interface Checkpoint {
  title: string;
  model_name: string;
  hash: string;
  sha256: string;
  filename: string;
  config: null;
}

interface Running {
  startedAt: number;
  durationMs: number;
  steps: number;
  interrupted: boolean;
  finish: () => void;
}

export async function startFakeA1111(options: FakeA1111Options = {}): Promise<FakeA1111> {
  const checkpoints = (options.checkpoints ?? ['v1-5-pruned-emaonly.safetensors']).map(describeCheckpoint);
  const loras = (options.loras ?? []).map((lora) =>
    typeof lora === 'string' ? { name: lora, alias: lora } : lora,
  );
  const upscalers = ['None', 'Lanczos', 'Nearest', ...(options.upscalers ?? DEFAULT_UPSCALERS)];
  const stepDelayMs = options.stepDelayMs ?? 0;
  const generations: FakeA1111Generation[] = [];
  const switches: FakeA1111Switch[] = [];
  /** The `sd_model_checkpoint` option, and the checkpoint actually in memory. */
  let option = checkpoints[0]?.title ?? '';
  let loaded = option;
  let running: Running | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** A1111's queue_lock: one generation, model load or extras at a time. */
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };
  /** Runs under the lock; a no-op when `title` is already in memory. */
  const load = async (title: string) => {
    if (loaded === title) return;
    await sleep(options.switchDelayMs ?? 0);
    loaded = title;
  };

  const findCheckpoint = (alias: string) =>
    checkpoints.find((entry) =>
      [entry.title, entry.model_name, entry.hash, entry.sha256, basename(entry.filename)].includes(alias),
    );

  const generate = (route: FakeA1111Generation['route']) => async (call: RecordedCall) => {
    const body = (call.body ?? {}) as Record<string, unknown>;
    const sampler = String(body.sampler_name ?? 'Euler a');
    if (!A1111_SAMPLERS.includes(sampler)) return apiError(400, 'HTTPException', 'Sampler not found');
    if (route === 'img2img' && !Array.isArray(body.init_images)) {
      return { status: 422, body: { detail: [{ loc: ['body', 'init_images'], msg: 'field required' }] } };
    }
    return exclusive(async () => {
      await load(option);
      const generation: FakeA1111Generation = { route, checkpoint: loaded, body, interrupted: false };
      generations.push(generation);
      const steps =
        Number(body.steps ?? 20) + (body.enable_hr ? Number(body.hr_second_pass_steps || body.steps) : 0);
      await new Promise<void>((finish) => {
        running = {
          startedAt: Date.now(),
          durationMs: steps * stepDelayMs,
          steps,
          interrupted: false,
          finish,
        };
        const timer = setTimeout(finish, steps * stepDelayMs);
        timer.unref();
      });
      generation.interrupted = running?.interrupted ?? false;
      running = undefined;
      return { body: await renderImages(body, route) };
    });
  };

  const fake = await startHttpFake({
    'GET /sdapi/v1/sd-models': () => ({ body: checkpoints }),
    'GET /sdapi/v1/options': () => ({
      body: { sd_model_checkpoint: option, CLIP_stop_at_last_layers: 1, samples_format: 'png' },
    }),
    'POST /sdapi/v1/options': async (call) => {
      const wanted = (call.body as { sd_model_checkpoint?: string } | undefined)?.sd_model_checkpoint;
      if (wanted === undefined) return { body: null };
      const checkpoint = findCheckpoint(wanted);
      if (!checkpoint) return apiError(500, 'RuntimeError', `model '${wanted}' not found`);
      switches.push({ checkpoint: checkpoint.title, duringGeneration: running !== undefined });
      option = checkpoint.title;
      await exclusive(() => load(checkpoint.title));
      return { body: null };
    },
    'GET /sdapi/v1/loras': () => ({
      body: loras.map((lora) => ({
        name: lora.name,
        alias: lora.alias,
        path: `/models/Lora/${lora.name}.safetensors`,
        metadata: {},
      })),
    }),
    'GET /sdapi/v1/upscalers': () => ({
      body: upscalers.map((name) => ({
        name,
        model_name: null,
        model_path: null,
        model_url: null,
        scale: 4,
      })),
    }),
    'GET /sdapi/v1/samplers': () => ({
      body: A1111_SAMPLERS.map((name) => ({ name, aliases: [], options: {} })),
    }),
    'GET /sdapi/v1/progress': () => ({ body: progressReport(running) }),
    'POST /sdapi/v1/interrupt': () => {
      if (running) {
        running.interrupted = true;
        running.finish();
      }
      return { body: null };
    },
    'POST /sdapi/v1/txt2img': generate('txt2img'),
    'POST /sdapi/v1/img2img': generate('img2img'),
    'POST /sdapi/v1/extra-single-image': (call) => {
      const body = (call.body ?? {}) as Record<string, unknown>;
      const upscaler = String(body.upscaler_1 ?? 'None');
      if (!upscalers.some((name) => name.toLowerCase() === upscaler.toLowerCase())) {
        const detail = `Invalid upscaler, needs to be one of these: ${upscalers.join(' , ')}`;
        return apiError(400, 'HTTPException', detail);
      }
      return exclusive(async () => ({ body: await runExtras(body) }));
    },
  });

  return {
    ...fake,
    get checkpoint() {
      return loaded;
    },
    generations,
    switches,
    titleOf: (fileName) => describeCheckpoint(fileName).title,
  };
}

function describeCheckpoint(fileName: string): Checkpoint {
  const sha256 = createHash('sha256').update(fileName).digest('hex');
  return {
    title: `${fileName} [${sha256.slice(0, 10)}]`,
    model_name: fileName.replace(/\.[^.]+$/, ''),
    hash: sha256.slice(0, 8),
    sha256,
    filename: `/stable-diffusion-webui/models/Stable-diffusion/${fileName}`,
    config: null,
  };
}

/** `images` (one per seed, at the output size) and `info`, a JSON string, as A1111 answers a generation. */
async function renderImages(body: Record<string, unknown>, route: FakeA1111Generation['route']) {
  const { width, height } = outputSize(body, route);
  const count = Number(body.batch_size ?? 1) * Number(body.n_iter ?? 1);
  const requested = Number(body.seed ?? -1);
  const seed = requested === -1 ? Math.floor(Math.random() * 2 ** 32) : requested;
  const allSeeds = Array.from({ length: count }, (_, i) => seed + i);
  const images = await Promise.all(
    allSeeds.map(async (each) => (await fakePng(width, height, each)).toString('base64')),
  );
  const info = {
    prompt: body.prompt ?? '',
    all_prompts: allSeeds.map(() => body.prompt ?? ''),
    negative_prompt: body.negative_prompt ?? '',
    seed,
    all_seeds: allSeeds,
    subseed: -1,
    all_subseeds: allSeeds.map(() => -1),
    width,
    height,
    sampler_name: body.sampler_name ?? 'Euler a',
    cfg_scale: body.cfg_scale ?? 7,
    steps: body.steps ?? 20,
    batch_size: count,
    infotexts: allSeeds.map((each) => `${body.prompt ?? ''}\nSteps: ${body.steps ?? 20}, Seed: ${each}`),
  };
  return { images, parameters: body, info: JSON.stringify(info) };
}

/** Hires fix renders at `hr_resize_x/y`, or at the first-pass size times `hr_scale`. */
function outputSize(body: Record<string, unknown>, route: FakeA1111Generation['route']) {
  const width = Number(body.width ?? 512);
  const height = Number(body.height ?? 512);
  if (route === 'txt2img' && body.enable_hr) {
    const resizeX = Number(body.hr_resize_x ?? 0);
    const resizeY = Number(body.hr_resize_y ?? 0);
    if (resizeX > 0 && resizeY > 0) return { width: resizeX, height: resizeY };
    const scale = Number(body.hr_scale ?? 2);
    return { width: Math.round(width * scale), height: Math.round(height * scale) };
  }
  return { width, height };
}

/** Upscales by `upscaling_resize` (resize mode 0); face restoration leaves the fake's images as they are. */
async function runExtras(body: Record<string, unknown>) {
  const input = Buffer.from(String(body.image ?? ''), 'base64');
  const metadata = await sharp(input).metadata();
  const upscaling = String(body.upscaler_1 ?? 'None') === 'None' ? 1 : Number(body.upscaling_resize ?? 2);
  const width = Math.round((metadata.width ?? 64) * upscaling);
  const height = Math.round((metadata.height ?? 64) * upscaling);
  const image = await sharp(input).resize(width, height, { fit: 'fill' }).png().toBuffer();
  return { html_info: '', image: image.toString('base64') };
}

function progressReport(running: Running | undefined) {
  const fraction =
    running && running.durationMs > 0
      ? Math.min(0.99, (Date.now() - running.startedAt) / running.durationMs)
      : 0;
  const step = running ? Math.floor(fraction * running.steps) : 0;
  return {
    progress: fraction,
    eta_relative: running ? Math.max(0, (running.durationMs - (Date.now() - running.startedAt)) / 1000) : 0,
    state: {
      skipped: false,
      interrupted: running?.interrupted ?? false,
      stopping_generation: false,
      job: running ? 'txt2img' : '',
      job_count: running ? 1 : 0,
      job_timestamp: '0',
      job_no: 0,
      sampling_step: step,
      sampling_steps: running?.steps ?? 0,
    },
    current_image: null,
    textinfo: null,
    current_task: null,
  };
}

/** An error the way A1111's API middleware reports exceptions. */
function apiError(status: number, error: string, message: string) {
  const detail = error === 'HTTPException' ? message : '';
  const errors = error === 'HTTPException' ? `${status}: ${message}` : message;
  return { status, body: { error, detail, body: '', errors } };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
