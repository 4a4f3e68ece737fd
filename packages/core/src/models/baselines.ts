/**
 * Model families ("baselines"): what each costs relative to SD1.5 and which are heavy enough to change job
 * timeouts and forbid features (spec §2.2, §3.5).
 */
import type { ImageBaseline } from './types.js';

export const IMAGE_BASELINES: readonly ImageBaseline[] = [
  'stable_diffusion_1',
  'stable_diffusion_2',
  'stable_diffusion_xl',
  'stable_cascade',
  'flux_1',
  'qwen_image',
  'z_image',
];

/** Features of the job that change a baseline's multiplier. */
export interface BaselineMultiplierOptions {
  /** The request uses `workflow: "qr_code"` (SDXL costs ×4 instead of ×2). */
  qrCode: boolean;
  /** The request uses `hires_fix` (Stable Cascade costs ×7 instead of ×4). */
  hiresFix: boolean;
}

/**
 * The factor on a job's kudos for the model family the worker actually used (spec §2.2):
 * SD1/SD2 1, SDXL 2 (4 with the qr_code workflow), Stable Cascade 4 (7 with hires fix), Flux.1 8,
 * Z-Image 8, Qwen-Image 12.
 */
export function baselineMultiplier(baseline: ImageBaseline, options: BaselineMultiplierOptions): number {
  switch (baseline) {
    case 'stable_diffusion_1':
    case 'stable_diffusion_2':
      return 1;
    case 'stable_diffusion_xl':
      return options.qrCode ? 4 : 2;
    case 'stable_cascade':
      return options.hiresFix ? 7 : 4;
    case 'flux_1':
    case 'z_image':
      return 8;
    case 'qwen_image':
      return 12;
  }
}

/**
 * Flux, Qwen-Image and Z-Image: their jobs get three times the usual TTL, and they accept neither hires fix
 * (`HiResMismatch`) nor ControlNet.
 */
export function isHeavyBaseline(baseline: ImageBaseline): boolean {
  return baseline === 'flux_1' || baseline === 'qwen_image' || baseline === 'z_image';
}

/**
 * Baseline names as upstream's image model reference spells them, mapped to ours. Upstream splits SD2 by
 * resolution (`stable_diffusion_2_768`, `stable_diffusion_2_512`); both price and match like SD2.
 */
const BASELINE_ALIASES: Record<string, ImageBaseline> = {
  stable_diffusion_1: 'stable_diffusion_1',
  stable_diffusion_2: 'stable_diffusion_2',
  stable_diffusion_2_768: 'stable_diffusion_2',
  stable_diffusion_2_512: 'stable_diffusion_2',
  stable_diffusion_xl: 'stable_diffusion_xl',
  stable_cascade: 'stable_cascade',
  flux_1: 'flux_1',
  flux_schnell: 'flux_1',
  flux_dev: 'flux_1',
  qwen_image: 'qwen_image',
  z_image: 'z_image',
  z_image_turbo: 'z_image',
};

/** Our baseline for a baseline string from a reference file, or undefined when it is not one we know. */
export function normalizeBaseline(value: string): ImageBaseline | undefined {
  return BASELINE_ALIASES[value.trim().toLowerCase()];
}

/**
 * A guess at a model's family from its name alone, for models the reference does not list. It is a
 * heuristic, checked in this order: `qwen` → Qwen-Image; `z-image`/`z_image` → Z-Image; `flux` → Flux.1;
 * `cascade` → Stable Cascade; `sdxl`, a trailing `xl` (`Juggernaut XL`, `PonyXL`), `pony`, `illustrious` or
 * `noob` → SDXL; `sd2`, `sd 2`, `2.1` or `stable_diffusion_2` → SD2; anything else → SD1.
 */
export function inferBaseline(modelName: string): ImageBaseline {
  const name = modelName.toLowerCase();
  if (name.includes('qwen')) return 'qwen_image';
  if (/z[-_ ]image/.test(name)) return 'z_image';
  if (name.includes('flux')) return 'flux_1';
  if (name.includes('cascade')) return 'stable_cascade';
  if (/sdxl|xl(?![a-z])|pony|illustrious|noob/.test(name)) return 'stable_diffusion_xl';
  if (/sd[-_ ]?2(?!\d)|(?<![\d.])2\.1(?!\d)|stable_diffusion_2/.test(name)) return 'stable_diffusion_2';
  return 'stable_diffusion_1';
}
