/**
 * The styles /draw offers: a prompt template (`{p}` is the person's prompt) and words to keep out, applied
 * before the request goes to the horde. (The AI Horde's own `style` field needs a styles registry this horde
 * does not keep, so presets live with the bot.)
 */
import type { Choice } from '../framework/types.js';

export interface DrawStyle extends Choice {
  template: string;
  negative: string;
}

export const DRAW_STYLES: readonly DrawStyle[] = [
  {
    name: 'photo',
    value: 'photo',
    template: '{p}, photograph, natural light, sharp focus',
    negative: 'painting, drawing, cartoon',
  },
  {
    name: 'watercolor',
    value: 'watercolor',
    template: 'watercolor painting of {p}, soft washes, paper texture',
    negative: 'photo, 3d render',
  },
  {
    name: 'oil painting',
    value: 'oil-painting',
    template: 'oil painting of {p}, visible brush strokes, rich colour',
    negative: 'photo, flat colours',
  },
  {
    name: 'anime',
    value: 'anime',
    template: 'anime illustration of {p}, clean line art, cel shading',
    negative: 'photo, realistic',
  },
  {
    name: 'pixel art',
    value: 'pixel-art',
    template: 'pixel art of {p}, 16-bit, limited palette',
    negative: 'blurry, photo, smooth gradients',
  },
  {
    name: 'line art',
    value: 'line-art',
    template: 'black and white line art of {p}, ink drawing',
    negative: 'colour, shading, photo',
  },
];

/** The prompt and negative prompt after `style` (none: as they are). */
export function applyStyle(
  style: string | undefined,
  prompt: string,
  negative: string | undefined,
): { prompt: string; negative: string | undefined } {
  const preset = DRAW_STYLES.find((entry) => entry.value === style);
  if (!preset) return { prompt, negative };
  return {
    prompt: preset.template.replace('{p}', prompt),
    negative: [negative, preset.negative].filter(Boolean).join(', '),
  };
}
