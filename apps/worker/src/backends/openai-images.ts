/**
 * Image backend for OpenAI's `POST /v1/images/generations` and the servers that copy it (LocalAI,
 * stable-diffusion.cpp's server, proxies). The API takes a prompt, a size and a count, nothing else the
 * horde sends: no negative prompt (ignored), no seed (each image reports `job.seed + i`), no sampler, steps
 * or cfg. Results are always resized (cover, centred) to exactly the width × height the horde asked for,
 * since many servers only offer a few sizes.
 */
import sharp from 'sharp';
import { type BackendHttp, createBackendHttp, imageBackendWording } from './backend-http.js';
import {
  BackendError,
  type GeneratedImage,
  type ImageBackend,
  type ImageFeatures,
  type ImageJob,
  type JobContext,
} from './types.js';

export interface OpenAiImagesBackendOptions {
  /** The API base (`https://api.openai.com`, `http://127.0.0.1:8080`); `/v1/images/generations` is appended. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. @default none */
  apiKey?: string;
  /** The backend's model id (`dall-e-3`, `gpt-image-1`, a local model name). */
  model: string;
  /** The model name advertised to the horde. @default `model` */
  hordeModel?: string;
  /**
   * The sizes the server accepts (`['1024x1024', '1792x1024', '1024x1792']`): the one nearest the job's
   * aspect ratio is requested and the result resized. @default the job's own size
   */
  sizes?: string[];
  /** Most images per request (`n`); larger jobs are split. dall-e-3 takes 1. @default 10 */
  maxImagesPerRequest?: number;
  /** How long one request may take. @default 300000 */
  timeoutMs?: number;
  /** For tests and proxies. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const FEATURES: ImageFeatures = {
  img2img: false,
  inpainting: false,
  lora: false,
  postProcessing: false,
  karras: false,
  tiling: false,
  clipSkip: false,
  hiresFix: false,
  batch: true,
};
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_IMAGES_PER_REQUEST = 10;

export function createOpenAiImagesBackend(options: OpenAiImagesBackendOptions): ImageBackend {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const http = createBackendHttp({
    base: options.url.replace(/\/+$/, '').replace(/\/v1$/, ''),
    label: 'openai-images',
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    fetch: options.fetch,
    // The job's own limit below (one request and its downloads) always runs out first.
    defaultTimeoutMs: timeoutMs,
    errorMessage: readOpenAiError,
    wording: {
      ...imageBackendWording('openai-images'),
      refused: (status, _route, message) => `openai-images: ${message} (HTTP ${status})`,
    },
  });
  const maxPerRequest = Math.max(1, options.maxImagesPerRequest ?? DEFAULT_MAX_IMAGES_PER_REQUEST);
  const sizes = options.sizes?.map(parseSize);

  const requestImages = async (job: ImageJob, count: number, signal: AbortSignal): Promise<Buffer[]> => {
    const size = sizes ? nearestSize(job, sizes) : { width: job.width, height: job.height };
    const body = {
      model: options.model,
      prompt: job.prompt,
      n: count,
      size: `${size.width}x${size.height}`,
      // The gpt-image models always answer in base64 and reject the parameter.
      ...(options.model.startsWith('gpt-image') ? {} : { response_format: 'b64_json' }),
    };
    const answer = await http.post('/v1/images/generations', body, { signal });
    const data = (answer as { data?: unknown } | undefined)?.data;
    if (!Array.isArray(data) || data.length < count) {
      throw new BackendError(
        `openai-images returned ${Array.isArray(data) ? data.length : 'no'} images for ${count}`,
      );
    }
    return Promise.all(data.slice(0, count).map((item) => readImage(http, item, signal)));
  };

  return {
    kind: 'openai-images',
    features: FEATURES,
    models: async () => [options.hordeModel ?? options.model],
    generate: async (job: ImageJob, context: JobContext): Promise<GeneratedImage[]> => {
      const images: GeneratedImage[] = [];
      while (images.length < job.count) {
        const count = Math.min(maxPerRequest, job.count - images.length);
        const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
        let batch: Buffer[];
        try {
          batch = await requestImages(job, count, signal);
        } catch (error) {
          throw explainAbort(error, context.signal, signal, timeoutMs);
        }
        for (const data of batch)
          images.push({ data: await fitToJob(data, job), seed: job.seed + images.length });
        context.progress(images.length / job.count);
      }
      return images;
    },
  };
}

/** `b64_json`, or a `url` to download (without our key: the URL is pre-signed, often on another host). */
async function readImage(http: BackendHttp, item: unknown, signal: AbortSignal): Promise<Buffer> {
  const { b64_json: base64, url } = (item ?? {}) as { b64_json?: unknown; url?: unknown };
  if (typeof base64 === 'string') return Buffer.from(base64, 'base64');
  if (typeof url === 'string') return http.getBytes(url, { signal });
  throw new BackendError('openai-images answered an image without b64_json or url');
}

/** Exactly the job's size: scaled to cover it, the overhang cut off evenly. */
function fitToJob(image: Buffer, job: ImageJob): Promise<Buffer> {
  return sharp(image).resize(job.width, job.height, { fit: 'cover' }).png().toBuffer();
}

interface Size {
  width: number;
  height: number;
}

function parseSize(size: string): Size {
  const match = /^(\d+)x(\d+)$/.exec(size.trim());
  if (!match) throw new BackendError(`openai-images: size ${size} is not WIDTHxHEIGHT`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** The allowed size closest in aspect ratio; among equals, the one closest in pixel count. */
function nearestSize(job: Size, sizes: Size[]): Size {
  const distance = (size: Size) => [
    Math.abs(Math.log(size.width / size.height / (job.width / job.height))),
    Math.abs(Math.log((size.width * size.height) / (job.width * job.height))),
  ];
  return sizes.reduce((best, size) => {
    const [aspect = 0, pixels = 0] = distance(size);
    const [bestAspect = 0, bestPixels = 0] = distance(best);
    return aspect < bestAspect - 1e-9 || (Math.abs(aspect - bestAspect) <= 1e-9 && pixels < bestPixels)
      ? size
      : best;
  });
}

/** Aborted by the worker: its reason; by our own time limit: a BackendError that says so. */
function explainAbort(
  error: unknown,
  callerSignal: AbortSignal,
  signal: AbortSignal,
  timeoutMs: number,
): unknown {
  if (callerSignal.aborted) return callerSignal.reason;
  if (signal.aborted) return new BackendError(`openai-images did not answer within ${timeoutMs / 1000} s`);
  return error;
}

/** OpenAI's errors are `{error: {message, type, param, code}}`. */
function readOpenAiError(body: unknown, text: string): string {
  const error = (body as { error?: { message?: unknown } | string } | null | undefined)?.error;
  const message = typeof error === 'string' ? error : error?.message;
  if (typeof message === 'string' && message !== '') return message;
  return text.slice(0, 200) || 'no details';
}
