/**
 * The demo image backend: no GPU, no model. It paints a procedural landscape (a gradient sky, a sun with
 * its glow, stars at night, layered mountain ridges in mist) whose colours and shapes come from a hash of
 * the prompt and seed, so anyone can run a worker end to end on a laptop. The same prompt, seed and size
 * always give the same bytes. Every image says what it is, in its EXIF and in the job's `gen_metadata`.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { WEBP_QUALITY } from '../images.js';
import {
  BackendError,
  type GeneratedImage,
  type GenMetadataEntry,
  type ImageBackend,
  type ImageFeatures,
  type ImageJob,
  type JobContext,
} from './types.js';

export const DEMO_IMAGE_MODEL = 'Demo Procedural (not AI)';

export interface DemoImageBackendOptions {
  /** Simulated time per sampling step, to watch progress in the display. @default 0 (no waiting) */
  stepDelayMs?: number;
  /** The model name advertised to the horde. @default DEMO_IMAGE_MODEL */
  model?: string;
}

/** The demo makes plain pictures in batches and claims nothing else. */
const DEMO_FEATURES: ImageFeatures = {
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

const DEMO_METADATA: GenMetadataEntry = {
  type: 'information',
  value: 'see_ref',
  ref: 'demo backend: procedural image, not AI',
};

const EXIF_DESCRIPTION = 'hordekit demo backend: procedural image from the prompt and seed, not AI-generated';

export function createDemoImageBackend(options: DemoImageBackendOptions = {}): ImageBackend {
  const model = options.model ?? DEMO_IMAGE_MODEL;
  const stepDelayMs = options.stepDelayMs ?? 0;
  return {
    kind: 'demo',
    features: DEMO_FEATURES,
    models: async () => [model],
    generate: (job, context) => generateImages(job, context, stepDelayMs),
  };
}

async function generateImages(
  job: ImageJob,
  context: JobContext,
  stepDelayMs: number,
): Promise<GeneratedImage[]> {
  const steps = Math.max(1, job.steps);
  const images: GeneratedImage[] = [];
  for (let index = 0; index < job.count; index += 1) {
    if (context.signal.aborted) throw new BackendError('demo: generation aborted');
    if (stepDelayMs > 0) {
      for (let step = 1; step <= steps; step += 1) {
        await waitStep(stepDelayMs, context.signal);
        context.progress((index * steps + step) / (job.count * steps));
      }
    }
    const seed = job.seed + index;
    const data = await renderDemoImage(job.prompt, seed, job.width, job.height);
    images.push({ data, seed, metadata: [DEMO_METADATA] });
    context.progress((index + 1) / job.count);
  }
  return images;
}

async function waitStep(delayMs: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(delayMs, undefined, { signal });
  } catch {
    throw new BackendError('demo: generation aborted');
  }
}

/** The encoded picture: WebP at the horde's quality, with an EXIF note that it is not AI-generated. */
export async function renderDemoImage(prompt: string, seed: number, width: number, height: number) {
  const pixels = paintScene(prompt, seed, width, height);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .webp({ quality: WEBP_QUALITY })
    .withExif({ IFD0: { ImageDescription: EXIF_DESCRIPTION, Software: 'hordekit-worker demo' } })
    .toBuffer();
}

// --- The painting --------------------------------------------------------------------------------------

type Rgb = [number, number, number];

interface Scene {
  skyTop: Rgb;
  horizon: Rgb;
  sun: { x: number; y: number; radius: number; colour: Rgb; glow: number };
  night: boolean;
  ridges: Ridge[];
}

interface Ridge {
  /** Resting height as a fraction of the image height (0 = top). */
  base: number;
  waves: { amplitude: number; frequency: number; phase: number }[];
  colour: Rgb;
}

/** Raw RGB pixels (width × height × 3) of the scene the prompt and seed pick. */
export function paintScene(prompt: string, seed: number, width: number, height: number): Buffer {
  const random = createRandom(prompt, seed);
  const scene = pickScene(random);
  const pixels = Buffer.alloc(width * height * 3);
  const ridgeTops = scene.ridges.map((ridge) => ridgeHeights(ridge, width, height));
  const skyRows = skyGradient(scene, height);
  const sunX = scene.sun.x * width;
  const sunY = scene.sun.y * height;
  const sunRadius = scene.sun.radius * Math.min(width, height);
  const glowScale = 1 / (sunRadius * sunRadius * scene.sun.glow);

  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const offset = (y * width + x) * 3;
      const layer = frontmostRidgeAt(ridgeTops, x, y);
      if (layer >= 0) {
        paintRidge(
          pixels,
          offset,
          scene.ridges[layer]!.colour,
          scene.horizon,
          y,
          ridgeTops[layer]![x]!,
          height,
        );
        continue;
      }
      const dx = x - sunX;
      const dy = y - sunY;
      const distanceSquared = dx * dx + dy * dy;
      if (distanceSquared <= sunRadius * sunRadius) {
        setPixel(pixels, offset, scene.sun.colour);
        continue;
      }
      // A soft glow falling off with the square of the distance, blended over the sky row.
      const glow = 1 / (1 + distanceSquared * glowScale);
      const row = skyRows[y]!;
      pixels[offset] = row[0] + (scene.sun.colour[0] - row[0]) * glow;
      pixels[offset + 1] = row[1] + (scene.sun.colour[1] - row[1]) * glow;
      pixels[offset + 2] = row[2] + (scene.sun.colour[2] - row[2]) * glow;
    }
  }
  if (scene.night) scatterStars(pixels, random, ridgeTops, width, height);
  return pixels;
}

/** Colours and shapes: a random hue family, dusk or day, 3–5 ridges fading into the horizon haze. */
function pickScene(random: () => number): Scene {
  const hue = random() * 360;
  const night = random() < 0.3;
  const skyTop = hsl(hue, 0.45 + random() * 0.3, night ? 0.08 + random() * 0.08 : 0.25 + random() * 0.25);
  const horizon = hsl(
    hue + 20 + random() * 50,
    0.55 + random() * 0.35,
    night ? 0.3 + random() * 0.15 : 0.65 + random() * 0.15,
  );
  const sun = {
    x: 0.15 + random() * 0.7,
    y: 0.15 + random() * 0.35,
    radius: 0.03 + random() * 0.06,
    colour: hsl(hue + 40 + random() * 20, 0.9, night ? 0.9 : 0.85),
    glow: 6 + random() * 10,
  };
  const ridgeHue = hue + 180 + random() * 60;
  const count = 3 + Math.floor(random() * 3);
  const ridges: Ridge[] = [];
  for (let layer = 0; layer < count; layer += 1) {
    const depth = layer / (count - 1); // 0 = farthest, 1 = nearest
    ridges.push({
      base: 0.5 + depth * 0.3 + random() * 0.05,
      waves: [1, 2.3, 5.1].map((scale) => ({
        amplitude: (0.06 / scale) * (0.6 + random() * 0.8) * (1 - depth * 0.4),
        frequency: scale * (1.5 + random() * 2.5),
        phase: random() * Math.PI * 2,
      })),
      // Far ridges take the haze colour (aerial perspective); near ones are dark and saturated.
      colour: mix(hsl(ridgeHue, 0.35, night ? 0.06 : 0.12 + random() * 0.1), horizon, 0.75 * (1 - depth)),
    });
  }
  return { skyTop, horizon, sun, night, ridges };
}

/** For each column, the y where the ridge begins (in pixels). */
function ridgeHeights(ridge: Ridge, width: number, height: number): Float32Array {
  const tops = new Float32Array(width);
  for (let x = 0; x < width; x += 1) {
    const u = x / width;
    let top = ridge.base;
    for (const wave of ridge.waves)
      top -= wave.amplitude * Math.sin(u * wave.frequency * Math.PI * 2 + wave.phase);
    tops[x] = top * height;
  }
  return tops;
}

/** The nearest ridge covering (x, y), or -1 for sky. Ridges are ordered far to near. */
function frontmostRidgeAt(ridgeTops: Float32Array[], x: number, y: number): number {
  for (let layer = ridgeTops.length - 1; layer >= 0; layer -= 1) {
    if (y >= ridgeTops[layer]![x]!) return layer;
  }
  return -1;
}

/** Mountain colour, a little hazier just below the crest so the layers read apart. */
function paintRidge(
  pixels: Buffer,
  offset: number,
  colour: Rgb,
  haze: Rgb,
  y: number,
  top: number,
  height: number,
) {
  const haziness = 0.25 * Math.max(0, 1 - (y - top) / (height * 0.05));
  pixels[offset] = colour[0] + (haze[0] - colour[0]) * haziness;
  pixels[offset + 1] = colour[1] + (haze[1] - colour[1]) * haziness;
  pixels[offset + 2] = colour[2] + (haze[2] - colour[2]) * haziness;
}

/** One colour per row, from the sky colour at the top to the haze at mid-height (eased). */
function skyGradient(scene: Scene, height: number): Rgb[] {
  const rows: Rgb[] = [];
  for (let y = 0; y < height; y += 1) {
    const t = Math.min(1, y / (height * 0.65));
    rows.push(mix(scene.skyTop, scene.horizon, t * t * (3 - 2 * t)));
  }
  return rows;
}

function scatterStars(
  pixels: Buffer,
  random: () => number,
  ridgeTops: Float32Array[],
  width: number,
  height: number,
): void {
  const stars = Math.round((width * height) / 2500);
  for (let star = 0; star < stars; star += 1) {
    const x = Math.floor(random() * width);
    const y = Math.floor(random() * height * 0.6);
    const brightness = 140 + random() * 115;
    if (frontmostRidgeAt(ridgeTops, x, y) >= 0) continue;
    const offset = (y * width + x) * 3;
    for (let channel = 0; channel < 3; channel += 1) {
      pixels[offset + channel] = Math.max(pixels[offset + channel]!, brightness);
    }
  }
}

function setPixel(pixels: Buffer, offset: number, colour: Rgb): void {
  pixels[offset] = colour[0];
  pixels[offset + 1] = colour[1];
  pixels[offset + 2] = colour[2];
}

// --- Small helpers -------------------------------------------------------------------------------------

/** mulberry32 seeded from SHA-256 of prompt and seed: tiny, fast, and the same on every platform. */
function createRandom(prompt: string, seed: number): () => number {
  let state = createHash('sha256').update(`${seed}\n${prompt}`).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(from: Rgb, to: Rgb, amount: number): Rgb {
  return [
    from[0] + (to[0] - from[0]) * amount,
    from[1] + (to[1] - from[1]) * amount,
    from[2] + (to[2] - from[2]) * amount,
  ];
}

/** HSL (hue in degrees, any range; saturation and lightness 0–1) to RGB 0–255. */
function hsl(hue: number, saturation: number, lightness: number): Rgb {
  const h = (((hue % 360) + 360) % 360) / 60;
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const second = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] =
    h < 1
      ? [chroma, second, 0]
      : h < 2
        ? [second, chroma, 0]
        : h < 3
          ? [0, chroma, second]
          : h < 4
            ? [0, second, chroma]
            : h < 5
              ? [second, 0, chroma]
              : [chroma, 0, second];
  const m = lightness - chroma / 2;
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}
