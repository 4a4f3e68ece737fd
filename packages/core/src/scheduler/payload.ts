/**
 * What a worker receives for a claimed batch: the AI Horde's worker-side payload (`ddim_steps`, `n_iter`,
 * a concrete seed as a string, `use_nsfw_censor`), built from the stored request body.
 */
import type { ImageGenerateBody, TextGenerateBody } from '../requests/schemas.js';

const UINT32 = 2 ** 32;

/** FNV-1a: text seeds ("my favourite seed") become a stable 32-bit number. */
function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function seedToNumber(seed: string): number {
  return /^\d{1,15}$/.test(seed) ? Number(seed) % UINT32 : hashSeed(seed);
}

/**
 * The seed of one pop's batch: the request's seed (hashed when it is text) or a random one; with
 * `seed_variation`, offset by `variation × jobs still waiting` so every batch gets its own.
 */
export function batchSeed(body: ImageGenerateBody, waitingBefore: number, random: () => number): string {
  const { seed, seed_variation: variation } = body.params;
  const base = seed === undefined ? Math.floor(random() * UINT32) : seedToNumber(seed);
  if (variation === undefined) return String(base);
  return String((base + variation * waitingBefore) % UINT32);
}

export interface ImageJobPayload extends Record<string, unknown> {
  prompt: string;
  ddim_steps: number;
  n_iter: number;
  seed: string;
  batch_size: 1;
  sampler_name: string;
  cfg_scale: number;
  width: number;
  height: number;
  karras: boolean;
  use_nsfw_censor: boolean;
}

export function imagePayload(body: ImageGenerateBody, count: number, seed: string): ImageJobPayload {
  const { steps, n: _n, seed: _seed, control_strength: _strength, ...params } = body.params;
  return {
    ...params,
    prompt: body.prompt,
    ddim_steps: steps ?? 30,
    n_iter: count,
    seed,
    batch_size: 1,
    use_nsfw_censor: !body.nsfw && body.censor_nsfw,
  };
}

export interface TextJobPayload extends Record<string, unknown> {
  prompt: string;
  n: number;
  max_length: number;
  max_context_length: number;
}

export function textPayload(body: TextGenerateBody): TextJobPayload {
  return { ...body.params, prompt: body.prompt, n: 1 };
}
