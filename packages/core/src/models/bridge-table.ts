/**
 * What each worker bridge can do, by bridge name and integer major version — plain data. A version has
 * every capability and sampler of the versions at or below it. The engine reads it through
 * `bridgeProfile` (bridges.ts).
 *
 * Provenance, entry by entry:
 * - `AI Horde Worker reGen` capabilities: spec §3.3 (fact). Samplers: spec §3.3 gives v2 (all karras
 *   samplers incl. `DDIM`) and v3 (`lcm`); v1 running the `k_*` samplers is our assumption (upstream's
 *   sampler table starts at v2).
 * - `AI Horde Worker` (legacy), `SD-WebUI Stable Horde Worker Bridge`, `HordeAutoWebBridge`: the spec only
 *   says they have tables; these are the public horde's tables as we understand them (facts, not
 *   verified against a running server). The legacy worker has no `tiling`, `flux` or `layer_diffuse`; the
 *   SD-WebUI bridge has no `img2img` and no `post-processing`. Upstream also lists `painting` for
 *   HordeAutoWebBridge, a name no check reads, so that bridge gets no inpainting here either.
 * - `hordekit-worker`: ours (a later issue builds it).
 */
import { SAMPLERS } from '../requests/schemas.js';
import type { BridgeCapability } from './types.js';

/** Samplers a bridge version adds. */
export interface BridgeSamplerStep {
  /** Usable with `karras` on or off. */
  any?: readonly string[];
  /** Usable only with `karras: false`. */
  plainOnly?: readonly string[];
}

export interface ImageBridgeEntry {
  /** Capabilities each major version adds. */
  capabilities: Readonly<Record<number, readonly BridgeCapability[]>>;
  /** Samplers each major version adds. */
  samplers: Readonly<Record<number, BridgeSamplerStep>>;
  /**
   * Official bridges only: the major version from which generation rewards are full (×1.0); older
   * versions earn ×0.9. Any bridge without it earns ×0.75 (spec §2.4).
   */
  fullRewardFrom?: number;
}

/** The eleven `k_*` samplers. */
const K_SAMPLERS = SAMPLERS.filter((sampler) => sampler.startsWith('k_'));

export const REGEN_BRIDGE = 'AI Horde Worker reGen';
export const LEGACY_BRIDGE = 'AI Horde Worker';
export const HORDEKIT_BRIDGE = 'hordekit-worker';

export const IMAGE_BRIDGES: Readonly<Record<string, ImageBridgeEntry>> = {
  [REGEN_BRIDGE]: {
    capabilities: {
      1: [
        'img2img',
        'inpainting',
        'karras',
        'post-processing',
        'GFPGAN',
        'RealESRGAN_x4plus',
        'r2',
        'CodeFormers',
        'clip_skip',
        'r2_source',
        'controlnet',
        'strip_background',
        'return_control_map',
        'RealESRGAN_x4plus_anime_6B',
        'NMKD_Siax',
        '4x_AnimeSharp',
        'image_is_control',
        'RealESRGAN_x2plus',
        'hires_fix',
        'tiling',
      ],
      2: ['textual_inversion', 'lora'],
      3: ['lora_versions'],
      5: ['extra_source_images'],
      6: ['stable_cascade_2pass'],
      7: ['qr_code', 'extra_texts', 'workflow'],
      8: ['layer_diffuse'],
      9: ['flux'],
      13: [
        '4xNomos8kSC',
        '4xLSDIRplus',
        '4xNomosWebPhoto_RealPLKSR',
        '4xNomos2_realplksr_dysample',
        '4xNomos2_hq_dat2',
        '2xModernSpanimationV1',
        'GFPGANv1.3',
        'RestoreFormer',
      ],
    },
    samplers: {
      1: { any: K_SAMPLERS },
      2: { any: ['DDIM', 'dpmsolver'] },
      3: { any: ['lcm'] },
    },
    fullRewardFrom: 13,
  },

  [LEGACY_BRIDGE]: {
    capabilities: {
      3: ['img2img'],
      4: ['inpainting'],
      6: ['karras'],
      7: ['post-processing', 'GFPGAN', 'RealESRGAN_x4plus'],
      8: ['r2'],
      9: ['CodeFormers'],
      13: ['hires_fix', 'clip_skip'],
      14: ['r2_source'],
      15: ['controlnet'],
      18: ['strip_background', 'return_control_map', 'RealESRGAN_x4plus_anime_6B'],
      19: ['NMKD_Siax', '4x_AnimeSharp'],
      21: ['RealESRGAN_x2plus'],
      22: ['lora'],
      23: ['image_is_control'],
      24: ['textual_inversion'],
    },
    samplers: {
      11: { any: [...K_SAMPLERS.filter((sampler) => sampler !== 'k_dpmpp_sde'), 'dpmsolver'] },
      12: { any: ['k_dpmpp_sde'] },
      17: { plainOnly: ['DDIM'] },
    },
    fullRewardFrom: 24,
  },

  'SD-WebUI Stable Horde Worker Bridge': {
    capabilities: {
      1: ['inpainting', 'karras', 'r2', 'CodeFormers'],
      2: ['tiling'],
      3: ['r2_source'],
      4: ['clip_skip'],
    },
    samplers: { 1: { any: K_SAMPLERS, plainOnly: ['DDIM', 'plms'] } },
  },

  HordeAutoWebBridge: {
    capabilities: {
      1: ['img2img', 'karras'],
      2: ['tiling'],
    },
    samplers: {
      1: {
        any: ['k_lms', 'k_dpm_2', 'k_dpm_2_a', 'k_dpmpp_2s_a', 'k_dpmpp_2m', 'dpmsolver'],
        plainOnly: ['k_heun', 'k_euler', 'k_euler_a', 'k_dpm_fast', 'k_dpm_adaptive'],
      },
    },
  },

  [HORDEKIT_BRIDGE]: {
    capabilities: {
      0: [
        'img2img',
        'inpainting',
        'karras',
        'post-processing',
        'GFPGAN',
        'CodeFormers',
        'RealESRGAN_x4plus',
        'RealESRGAN_x2plus',
        'strip_background',
        'r2',
        'r2_source',
        'clip_skip',
        'hires_fix',
        'tiling',
        'lora',
        'textual_inversion',
        'controlnet',
        'image_is_control',
        'return_control_map',
        'flux',
      ],
    },
    samplers: { 0: { any: SAMPLERS } },
    // Our own worker node (issue 4) is as current as the horde it ships with: full rewards from 0.x.
    fullRewardFrom: 0,
  },
};

/**
 * Unknown bridges run the samplers of this bridge version (spec §3.3: upstream treats them as the legacy
 * worker at version 23 for samplers, and grants them no capabilities).
 */
export const UNKNOWN_BRIDGE_SAMPLERS_FROM = { name: LEGACY_BRIDGE, version: 23 } as const;

/**
 * Text backends whose work earns full text rewards and that `validated_backends: true` requests accept
 * (spec §2.3), matched on the bridge name before the first `:` of `bridge_agent`.
 */
export const VALIDATED_TEXT_BACKENDS: readonly string[] = [
  LEGACY_BRIDGE,
  'AI Horde Worker~aphrodite~oai',
  'AI Horde Worker~aphrodite~kai',
  'KoboldCppEmbedWorker',
  'TabbyAPI',
];

/**
 * Text bridges we recognise. Those not in `VALIDATED_TEXT_BACKENDS` are known but unvalidated (×0.3 text
 * rewards). `hordekit-worker` stays unvalidated, as the public horde would treat it, until the worker exists
 * and someone decides otherwise.
 */
export const KNOWN_TEXT_BRIDGES: readonly string[] = [
  ...VALIDATED_TEXT_BACKENDS,
  'KoboldAI Client',
  'koboldcpp',
  HORDEKIT_BRIDGE,
];
