/**
 * From the horde's worker-side payload (`ddim_steps`, `n_iter`, a string seed, the negative prompt after
 * ` ### `, source images as URLs or base64) to the normalised jobs backends take (backends/types.ts).
 */
import { createHash } from 'node:crypto';
import type { GenMetadataEntry, ImageJob, LoraRequest, SourceProcessing, TextJob } from './backends/types.js';
import type { ImagePopAnswer, TextPopAnswer } from './horde-api.js';

const NEGATIVE_SEPARATOR = '###';
const SOURCE_PROCESSING: readonly SourceProcessing[] = ['img2img', 'inpainting', 'outpainting', 'remix'];

/** Splits `prompt ### negative` at the first `###` (the horde's convention; spaces around it are trimmed). */
export function splitPrompt(prompt: string): { prompt: string; negativePrompt: string } {
  const at = prompt.indexOf(NEGATIVE_SEPARATOR);
  if (at === -1) return { prompt: prompt.trim(), negativePrompt: '' };
  return {
    prompt: prompt.slice(0, at).trim(),
    negativePrompt: prompt.slice(at + NEGATIVE_SEPARATOR.length).trim(),
  };
}

/**
 * The horde sends seeds as strings. Integers are used as they are (modulo 2³²); any other text is hashed,
 * so the same text always gives the same seed; no seed at all gets a random one (as reGen does).
 */
export function parseSeed(raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw >>> 0;
  if (typeof raw !== 'string' || raw.trim() === '') return Math.floor(Math.random() * 2 ** 32);
  const text = raw.trim();
  // Integers of any size and sign wrap into 0…2³²−1, the same for the number and its text.
  if (/^-?\d+$/.test(text)) return Number(BigInt.asUintN(32, BigInt(text)));
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

type SourceFetcher = (reference: string) => Promise<Buffer>;

/** Reads a source image given as a URL (downloaded) or as base64 (decoded). */
export async function readSource(reference: string, download: SourceFetcher): Promise<Buffer> {
  if (/^https?:\/\//i.test(reference)) return download(reference);
  const data = reference.includes(',') ? reference.slice(reference.indexOf(',') + 1) : reference;
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) throw new Error('empty source image');
  return bytes;
}

/** An image pop with work in it, normalised; problems with source images become `metadata` entries. */
export async function toImageJob(
  answer: ImagePopAnswer,
  download: SourceFetcher,
): Promise<{ job: ImageJob; metadata: GenMetadataEntry[] }> {
  const payload = answer.payload ?? {};
  const metadata: GenMetadataEntry[] = [];
  const { prompt, negativePrompt } = splitPrompt(text(payload.prompt));
  const job: ImageJob = {
    id: answer.ids[0] ?? answer.id ?? '',
    model: answer.model ?? '',
    prompt,
    negativePrompt,
    // Bounded as the horde bounds them, so a different horde's odd payload cannot ask for a 1-gigapixel image.
    width: clamp(integer(payload.width, 512), 64, 3072),
    height: clamp(integer(payload.height, 512), 64, 3072),
    steps: clamp(integer(payload.ddim_steps ?? payload.steps, 30), 1, 500),
    cfgScale: number(payload.cfg_scale, 7.5),
    sampler: text(payload.sampler_name) || 'k_euler_a',
    karras: payload.karras !== false,
    seed: parseSeed(payload.seed),
    count: clamp(answer.ids.length || integer(payload.n_iter, 1), 1, 20),
    clipSkip: integer(payload.clip_skip, 1),
    tiling: payload.tiling === true,
    hiresFix: payload.hires_fix === true,
    hiresFixDenoisingStrength: optionalNumber(payload.hires_fix_denoising_strength),
    loras: loras(payload.loras),
    postProcessing: Array.isArray(payload.post_processing)
      ? payload.post_processing.filter((name): name is string => typeof name === 'string')
      : [],
    facefixerStrength: optionalNumber(payload.facefixer_strength),
  };

  if (answer.source_image) {
    const processing = SOURCE_PROCESSING.find((name) => name === answer.source_processing) ?? 'img2img';
    try {
      const image = await readSource(answer.source_image, download);
      let mask: Buffer | undefined;
      if (answer.source_mask) {
        try {
          mask = await readSource(answer.source_mask, download);
        } catch {
          metadata.push({ type: 'source_mask', value: 'download_failed' });
        }
      }
      job.source = { image, processing, mask };
      job.denoisingStrength = number(payload.denoising_strength, 0.75);
    } catch {
      // reGen's rule: a source that cannot be read is reported, and the job runs without it.
      metadata.push({ type: 'source_image', value: 'download_failed' });
    }
  }
  return { job, metadata };
}

/** A text pop with work in it, normalised. */
export function toTextJob(answer: TextPopAnswer, limits: { maxLength: number; maxContextLength: number }) {
  const payload = answer.payload ?? {};
  const { prompt: rawPrompt, max_length, max_context_length, ...params } = payload;
  const job: TextJob = {
    id: answer.ids[0] ?? answer.id ?? '',
    model: answer.model ?? '',
    prompt: typeof rawPrompt === 'string' ? rawPrompt : '',
    maxLength: clamp(integer(max_length, 80), 1, limits.maxLength),
    maxContextLength: clamp(integer(max_context_length, 1024), 1, limits.maxContextLength),
    params,
  };
  return job;
}

function loras(raw: unknown): LoraRequest[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const lora = entry as Record<string, unknown>;
    const name = text(lora.name);
    if (!name) return [];
    const model = number(lora.model, 1);
    return [{ name, model, clip: number(lora.clip, model), isVersion: lora.is_version === true }];
  });
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function number(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function integer(value: unknown, fallback: number): number {
  return Math.round(number(typeof value === 'string' ? Number(value) : value, fallback));
}
