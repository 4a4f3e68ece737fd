/**
 * The start-up log line that tells a worker's owner which horde features their image backend lacks, and
 * what that means: features a pop can declare are not advertised (the horde sends no such jobs), the
 * others are ignored when a job asks for them.
 */
import type { ImageBackend, ImageFeatures } from './types.js';

/** Features in the order the sentence names them, with their pop field when the pop can declare them. */
const FEATURES: readonly { feature: keyof ImageFeatures; label: string; popField?: string }[] = [
  { feature: 'img2img', label: 'img2img', popField: 'allow_img2img' },
  { feature: 'inpainting', label: 'inpainting', popField: 'allow_painting' },
  { feature: 'lora', label: 'LoRAs', popField: 'allow_lora' },
  { feature: 'postProcessing', label: 'post-processing', popField: 'allow_post_processing' },
  { feature: 'karras', label: 'karras' },
  { feature: 'tiling', label: 'tiling' },
  { feature: 'clipSkip', label: 'clip skip' },
  { feature: 'hiresFix', label: 'hires fix' },
];

/**
 * One sentence, e.g. `openai-images cannot do img2img, LoRAs, tiling; not advertised: allow_img2img,
 * allow_lora; ignored when asked: tiling`, or `a1111 can do every horde feature hordekit maps`.
 */
export function describeMissingImageFeatures(backend: ImageBackend): string {
  const missing = FEATURES.filter(({ feature }) => !backend.features[feature]);
  const batches = backend.features.batch ? '' : '; batches run one image per call';
  if (missing.length === 0) return `${backend.kind} can do every horde feature hordekit maps${batches}`;
  const parts = [`${backend.kind} cannot do ${missing.map(({ label }) => label).join(', ')}`];
  const notAdvertised = missing.flatMap(({ popField }) => (popField ? [popField] : []));
  if (notAdvertised.length > 0) parts.push(`not advertised: ${notAdvertised.join(', ')}`);
  const ignored = missing.filter(({ popField }) => !popField).map(({ label }) => label);
  if (ignored.length > 0) parts.push(`ignored when asked: ${ignored.join(', ')}`);
  return `${parts.join('; ')}${batches}`;
}
