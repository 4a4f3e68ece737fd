/**
 * An image worker: pops with the fields reGen sends (only the features the backend can do advertised),
 * runs the batch on the backend, encodes each image to WebP, PUTs it to its upload URL (base64 in the
 * submit when the horde gives none, or the upload keeps failing) and submits it with its seed, state and
 * generation metadata. A failed generation is submitted `faulted` for every id, so the horde re-queues
 * the request at once instead of waiting for the job to go stale.
 */
import { describeMissingImageFeatures } from './backends/describe.js';
import type { GeneratedImage, GenMetadataEntry, ImageBackend, ImageJob } from './backends/types.js';
import { shortId } from './display/format.js';
import type { ImagePopAnswer } from './horde-api.js';
import { toWebp } from './images.js';
import { toImageJob } from './payload.js';
import { type CommonWorkerOptions, errorMessage, type JobRun, WorkerNode } from './worker.js';

export interface ImageWorkerOptions extends CommonWorkerOptions {
  backend: ImageBackend;
  /** Largest width × height per image (reGen: `max_power` × 8 × 64 × 64; 262,144 is 512×512). */
  maxPixels?: number;
  allowImg2img?: boolean;
  allowPainting?: boolean;
  allowPostProcessing?: boolean;
  allowLora?: boolean;
  allowUnsafeIpaddr?: boolean;
  limitMaxSteps?: boolean;
}

export const DEFAULT_MAX_PIXELS = 262_144;

export class ImageWorker extends WorkerNode<ImagePopAnswer> {
  readonly kind = 'image';
  readonly backendKind: string;
  readonly #backend: ImageBackend;
  readonly #options: ImageWorkerOptions;

  constructor(options: ImageWorkerOptions) {
    super(options);
    this.#backend = options.backend;
    this.#options = options;
    this.backendKind = options.backend.kind;
  }

  /** The pop flags: what the owner allows, and only what the backend can do. */
  get allowed() {
    const features = this.#backend.features;
    const options = this.#options;
    return {
      allow_img2img: (options.allowImg2img ?? true) && features.img2img,
      allow_painting: (options.allowPainting ?? true) && features.inpainting,
      allow_post_processing: (options.allowPostProcessing ?? true) && features.postProcessing,
      allow_lora: (options.allowLora ?? true) && features.lora,
      allow_controlnet: false,
      allow_sdxl_controlnet: false,
    };
  }

  protected popBody(models: string[]): Record<string, unknown> {
    const options = this.#options;
    return {
      name: this.name,
      models,
      bridge_agent: options.bridgeAgent,
      nsfw: options.nsfw ?? true,
      blacklist: options.blacklist ?? [],
      threads: this.threads,
      amount: Math.max(1, Math.floor(options.amount ?? 1)),
      max_pixels: Math.min(
        options.maxPixels ?? DEFAULT_MAX_PIXELS,
        this.#backend.maxPixels ?? Number.MAX_SAFE_INTEGER,
      ),
      require_upfront_kudos: options.requireUpfrontKudos ?? false,
      extra_slow_worker: options.extraSlowWorker ?? false,
      priority_usernames: options.priorityUsernames ?? [],
      allow_unsafe_ipaddr: options.allowUnsafeIpaddr ?? true,
      limit_max_steps: options.limitMaxSteps ?? false,
      ...this.allowed,
    };
  }

  protected pop(body: Record<string, unknown>): Promise<ImagePopAnswer> {
    return this.api.popImage(body);
  }

  protected backendModels(): Promise<string[]> {
    return this.#backend.models();
  }

  protected describe(): string[] {
    const lines = [`image backend: ${describeMissingImageFeatures(this.#backend)}`];
    const features = this.#backend.features;
    const allowed = this.allowed;
    const switchedOff = [
      features.img2img && !allowed.allow_img2img && 'allow_img2img',
      features.inpainting && !allowed.allow_painting && 'allow_painting',
      features.postProcessing && !allowed.allow_post_processing && 'allow_post_processing',
      features.lora && !allowed.allow_lora && 'allow_lora',
    ].filter((flag): flag is string => typeof flag === 'string');
    if (switchedOff.length > 0) lines.push(`turned off in the configuration: ${switchedOff.join(', ')}`);
    return lines;
  }

  protected summarise(answer: ImagePopAnswer): string {
    const payload = answer.payload ?? {};
    const size = `${payload.width ?? '?'}×${payload.height ?? '?'}`;
    const steps = `${payload.ddim_steps ?? '?'} steps`;
    const count = answer.ids.length > 1 ? ` · ×${answer.ids.length}` : '';
    const source = answer.source_image ? ` · ${answer.source_processing ?? 'img2img'}` : '';
    return `${size} · ${steps}${count}${source}`;
  }

  protected async execute(answer: ImagePopAnswer, run: JobRun): Promise<void> {
    const ids = answer.ids;
    if (answer.source_image) run.phase('downloading');
    const { job, metadata } = await toImageJob(answer, (url) => this.api.download(url, run.signal));
    metadata.push(...this.#ignoredFeatures(job));

    run.phase('generating');
    let images: GeneratedImage[];
    try {
      images = await this.#generate(job, run);
    } catch (error) {
      const reason =
        run.signal.aborted && !(error instanceof Error && error.name === 'BackendError')
          ? `no result within the job's time limit (${errorMessage(run.signal.reason)})`
          : errorMessage(error);
      run.notice(
        'error',
        `job ${shortId(job.id)} failed on the backend: ${reason}; submitting it as faulted`,
      );
      await this.#submitFaulted(ids, run);
      return;
    }

    const megapixelsteps = (job.width * job.height * job.steps) / 1_000_000;
    for (const [index, id] of ids.entries()) {
      const image = images[index];
      if (!image) {
        run.notice(
          'error',
          `the backend returned ${images.length} of ${ids.length} images; ${shortId(id)} submitted as faulted`,
        );
        await this.#submitFaulted([id], run);
        continue;
      }
      run.phase('encoding');
      const webp = await toWebp(image.data);
      const generation = await this.#place(webp, answer, index, run);
      const entries = [...metadata, ...(image.metadata ?? [])];
      if (ids.length > 1) entries.push({ type: 'batch_index', value: 'see_ref', ref: String(index) });
      run.phase('submitting');
      await run.deliver(
        () =>
          this.api.submitImage({
            id,
            generation,
            seed: image.seed,
            state: 'ok',
            gen_metadata: entries.length > 0 ? entries.slice(0, 50) : undefined,
          }),
        { faulted: false, megapixelsteps },
      );
    }
  }

  /** Calls the backend; one call per image when it cannot batch, with seeds seed, seed+1, …. */
  async #generate(job: ImageJob, run: JobRun): Promise<GeneratedImage[]> {
    const context = { signal: run.signal, progress: run.progress };
    if (job.count === 1 || this.#backend.features.batch) {
      return abortable(this.#backend.generate(job, context), run.signal);
    }
    const images: GeneratedImage[] = [];
    for (let index = 0; index < job.count; index += 1) {
      const single = { ...job, count: 1, seed: (job.seed + index) >>> 0 };
      const progress = (fraction: number) => run.progress((index + fraction) / job.count);
      images.push(...(await abortable(this.#backend.generate(single, { ...context, progress }), run.signal)));
    }
    return images;
  }

  /** Where the image goes: uploaded ('R2' in the submit), or base64 in the submit. */
  async #place(webp: Buffer, answer: ImagePopAnswer, index: number, run: JobRun): Promise<string> {
    const url = answer.r2_uploads?.[index] ?? (index === 0 ? answer.r2_upload : undefined);
    if (!url) return webp.toString('base64');
    run.phase('uploading');
    try {
      await this.uploadWithRetry(url, webp, run);
      return 'R2';
    } catch (error) {
      run.notice(
        'warn',
        `upload failed (${errorMessage(error)}); sending the image inside the submit instead`,
      );
      return webp.toString('base64');
    }
  }

  async #submitFaulted(ids: string[], run: JobRun): Promise<void> {
    run.phase('submitting');
    for (const id of ids) {
      await run.deliver(
        () => this.api.submitImage({ id, generation: 'faulted', seed: -1, state: 'faulted' }),
        {
          faulted: true,
        },
      );
    }
  }

  /** Features the job asked for that the backend runs without (they cannot be declared in a pop). */
  #ignoredFeatures(job: ImageJob): GenMetadataEntry[] {
    const features = this.#backend.features;
    const ignored: string[] = [];
    if (job.tiling && !features.tiling) ignored.push('tiling');
    if (job.hiresFix && !features.hiresFix) ignored.push('hires_fix');
    if (job.clipSkip > 1 && !features.clipSkip) ignored.push('clip_skip');
    if (job.loras.length > 0 && !features.lora) ignored.push('loras');
    return ignored.map((feature) => ({
      type: 'information',
      value: 'see_ref',
      ref: `${feature} is not supported by the ${this.#backend.kind} backend and was not applied`,
    }));
  }
}

/** Rejects when `signal` aborts, even if the backend ignores it. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
