/**
 * The indexable side of matching. A request's hard requirements become a bit set (`needs`); a worker's
 * pop becomes the bit set it offers. A worker can take a request only if `needs & ~offers` is empty, its
 * models intersect, and the size fits — so the queue can be partitioned by `(models, needs, size)` and a
 * pop skips whole partitions without looking at their requests.
 */
import type { SkipReason } from '../storage/types.js';

/** Requirement bits. The order is the order in which a missing bit is reported in `skipped`. */
export const Need = {
  nsfw: 1 << 0,
  trusted: 1 << 1,
  fast: 1 << 2,
  /** The request refuses extra-slow workers (`extra_slow_workers: false`). */
  standardSpeed: 1 << 3,
  img2img: 1 << 4,
  painting: 1 << 5,
  postProcessing: 1 << 6,
  lora: 1 << 7,
  controlnet: 1 << 8,
  /** SDXL ControlNet and layer diffusion (`transparent`). */
  sdxlControlnet: 1 << 9,
  r2: 1 << 10,
  textualInversion: 1 << 11,
  hiresFix: 1 << 12,
  tiling: 1 << 13,
  clipSkip: 1 << 14,
  extraSourceImages: 1 << 15,
  loraVersions: 1 << 16,
  qrCode: 1 << 17,
  layerDiffuse: 1 << 18,
  returnControlMap: 1 << 19,
  imageIsControl: 1 << 20,
  /** Text: `validated_backends: true`. */
  validatedBackend: 1 << 21,
} as const;
export type NeedName = keyof typeof Need;

const NEED_SKIP_REASON: Record<NeedName, SkipReason> = {
  nsfw: 'nsfw',
  trusted: 'untrusted',
  fast: 'performance',
  standardSpeed: 'performance',
  img2img: 'img2img',
  painting: 'painting',
  postProcessing: 'post-processing',
  lora: 'lora',
  controlnet: 'controlnet',
  sdxlControlnet: 'controlnet',
  r2: 'bridge_version',
  textualInversion: 'bridge_version',
  hiresFix: 'bridge_version',
  tiling: 'bridge_version',
  clipSkip: 'bridge_version',
  extraSourceImages: 'bridge_version',
  loraVersions: 'bridge_version',
  qrCode: 'bridge_version',
  layerDiffuse: 'bridge_version',
  returnControlMap: 'bridge_version',
  imageIsControl: 'bridge_version',
  validatedBackend: 'bridge_version',
};

const NEED_ORDER = Object.entries(Need) as [NeedName, number][];

/** Every requirement bit set. */
export const ALL_NEEDS = NEED_ORDER.reduce((mask, [, bit]) => mask | bit, 0);

/** The `skipped` reason for the first requirement a worker lacks, or null if it lacks none. */
export function missingNeedReason(needs: number, offers: number): SkipReason | null {
  const missing = needs & ~offers;
  if (missing === 0) return null;
  for (const [name, bit] of NEED_ORDER) if (missing & bit) return NEED_SKIP_REASON[name];
  return 'bridge_version';
}

/** Names of the bits in a mask, for logs and explanations. */
export function needNames(mask: number): NeedName[] {
  return NEED_ORDER.filter(([, bit]) => mask & bit).map(([name]) => name);
}
