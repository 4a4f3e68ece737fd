/**
 * Built-in image model reference: the well-known AI Horde models a community horde is likely to see, so a
 * horde works offline. Plain data; `createModelReference({ image })` adds to or overrides it, for example
 * with the entries of upstream's `stable_diffusion.json`.
 *
 * Names and baselines are the public horde's. The `nsfw` flags and `requirements` are our best
 * understanding of upstream's reference (approximations, not a copy): requirements only produce warnings
 * (spec §1.1), though `max_steps` also sets the step count above which a request needs upfront kudos
 * (spec §2.5), so a wrong value costs a warning or an upfront check, never a rejected job. The Qwen-Image
 * and Z-Image names are placeholders for those families until we know the public names.
 */
import type { ImageModelInfo, ImageModelRequirements } from './types.js';

/** The procedural demo backend's model (hordekit's own, not an AI Horde model): SD1-priced, safe. */
export const DEMO_IMAGE_MODEL = 'hordekit-demo';

type Entry = Pick<ImageModelInfo, 'name' | 'baseline'> & Partial<Omit<ImageModelInfo, 'name' | 'baseline'>>;

function model(entry: Entry): ImageModelInfo {
  return {
    nsfw: false,
    inpainting: false,
    requiresSourceImage: false,
    requirements: {},
    ...entry,
  };
}

const PONY: ImageModelRequirements = { clip_skip: 2 };
const FLUX_SCHNELL: ImageModelRequirements = { min_steps: 4, max_steps: 8, cfg_scale: 1 };

export const DEFAULT_IMAGE_MODELS: readonly ImageModelInfo[] = [
  // Stable Diffusion 1.5 and its fine-tunes
  model({ name: 'stable_diffusion', baseline: 'stable_diffusion_1' }),
  model({ name: 'stable_diffusion_inpainting', baseline: 'stable_diffusion_1', inpainting: true }),
  model({ name: 'Deliberate', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'Deliberate Inpainting', baseline: 'stable_diffusion_1', nsfw: true, inpainting: true }),
  model({ name: 'Anything Diffusion', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'AbsoluteReality', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'Dreamshaper', baseline: 'stable_diffusion_1' }),
  model({ name: 'Dreamshaper Inpainting', baseline: 'stable_diffusion_1', inpainting: true }),
  model({
    name: "ICBINP - I Can't Believe It's Not Photography",
    baseline: 'stable_diffusion_1',
    nsfw: true,
  }),
  model({ name: 'Realistic Vision', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'Epic Diffusion', baseline: 'stable_diffusion_1' }),
  model({ name: 'majicMIX realistic', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'Hentai Diffusion', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'URPM', baseline: 'stable_diffusion_1', nsfw: true }),
  model({ name: 'pix2pix', baseline: 'stable_diffusion_1', requiresSourceImage: true }),

  // Stable Diffusion 2.x
  model({ name: 'stable_diffusion_2.1', baseline: 'stable_diffusion_2' }),
  model({ name: 'Stable Diffusion 2 Depth', baseline: 'stable_diffusion_2', requiresSourceImage: true }),

  // SDXL and its fine-tunes (Pony and Illustrious descendants included)
  model({ name: 'SDXL 1.0', baseline: 'stable_diffusion_xl' }),
  model({ name: 'AlbedoBase XL (SDXL)', baseline: 'stable_diffusion_xl', nsfw: true }),
  model({ name: 'Juggernaut XL', baseline: 'stable_diffusion_xl', nsfw: true }),
  model({ name: 'Animagine XL', baseline: 'stable_diffusion_xl', nsfw: true }),
  model({ name: 'Pony Diffusion XL', baseline: 'stable_diffusion_xl', nsfw: true, requirements: PONY }),
  model({ name: 'CyberRealistic Pony', baseline: 'stable_diffusion_xl', nsfw: true, requirements: PONY }),
  model({ name: 'WAI-ANI-NSFW-PONYXL', baseline: 'stable_diffusion_xl', nsfw: true, requirements: PONY }),
  model({ name: 'NTR MIX IL-Noob XL', baseline: 'stable_diffusion_xl', nsfw: true }),
  // A Turbo model: few steps, low CFG, one sampler.
  model({
    name: 'DreamShaper XL',
    baseline: 'stable_diffusion_xl',
    requirements: {
      min_steps: 4,
      max_steps: 10,
      min_cfg_scale: 1,
      max_cfg_scale: 3,
      samplers: ['k_dpmpp_sde'],
    },
  }),

  // Stable Cascade
  model({ name: 'Stable Cascade 1.0', baseline: 'stable_cascade', requirements: { max_steps: 30 } }),

  // Flux.1
  model({ name: 'Flux.1-Schnell fp8 (Compact)', baseline: 'flux_1', requirements: FLUX_SCHNELL }),
  model({ name: 'Flux.1-Schnell fp16 (Compact)', baseline: 'flux_1', requirements: FLUX_SCHNELL }),
  model({ name: 'Flux.1-Dev fp8', baseline: 'flux_1', requirements: { cfg_scale: 1 } }),

  // Newer families (placeholder names, see the header)
  model({ name: 'Qwen-Image', baseline: 'qwen_image' }),
  model({
    name: 'Z-Image-Turbo',
    baseline: 'z_image',
    requirements: { min_steps: 4, max_steps: 10, cfg_scale: 1 },
  }),

  // hordekit's procedural demo backend (a later issue): priced like SD1, no GPU, safe for work.
  model({ name: DEMO_IMAGE_MODEL, baseline: 'stable_diffusion_1' }),
];
