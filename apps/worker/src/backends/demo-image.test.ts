import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isWebp } from '../images.js';
import { imageJob, jobContext } from '../testing/jobs.js';
import { createDemoImageBackend, DEMO_IMAGE_MODEL, paintScene, renderDemoImage } from './demo-image.js';
import { BackendError, type ImageJob } from './types.js';

/** A small fixture job for the demo model: quick to paint. */
const demoJob = (overrides: Partial<ImageJob> = {}) =>
  imageJob({ model: DEMO_IMAGE_MODEL, width: 64, height: 64, steps: 4, seed: 42, ...overrides });

describe('demo image backend', () => {
  it('claims only what it does: plain pictures, in batches', async () => {
    const backend = createDemoImageBackend();
    expect(backend.kind).toBe('demo');
    expect(await backend.models()).toEqual([DEMO_IMAGE_MODEL]);
    expect(backend.features).toEqual({
      img2img: false,
      inpainting: false,
      lora: false,
      postProcessing: false,
      karras: false,
      tiling: false,
      clipSkip: false,
      hiresFix: false,
      batch: true,
    });
    expect(await createDemoImageBackend({ model: 'Other Demo' }).models()).toEqual(['Other Demo']);
  });

  it.each([
    [64, 64],
    [512, 768],
    [1024, 1024],
  ])('makes a WebP of exactly %i×%i', async (width, height) => {
    const [image] = await createDemoImageBackend().generate(demoJob({ width, height }), jobContext().context);
    expect(isWebp(image!.data)).toBe(true);
    const metadata = await sharp(image!.data).metadata();
    expect(metadata).toMatchObject({ format: 'webp', width, height });
  });

  it('says in its EXIF and gen_metadata that it is not AI', async () => {
    const [image] = await createDemoImageBackend().generate(demoJob(), jobContext().context);
    const { exif } = await sharp(image!.data).metadata();
    expect(exif?.toString('latin1')).toContain('not AI-generated');
    expect(exif?.toString('latin1')).toContain('hordekit-worker demo');
    expect(image!.metadata).toEqual([
      { type: 'information', value: 'see_ref', ref: 'demo backend: procedural image, not AI' },
    ]);
  });

  it('gives identical bytes for the same prompt, seed and size, and others otherwise', async () => {
    const same = await renderDemoImage('a red fox', 7, 128, 96);
    expect((await renderDemoImage('a red fox', 7, 128, 96)).equals(same)).toBe(true);
    expect((await renderDemoImage('a red fox', 8, 128, 96)).equals(same)).toBe(false);
    expect((await renderDemoImage('a blue fox', 7, 128, 96)).equals(same)).toBe(false);
    expect(paintScene('a red fox', 7, 128, 96).equals(paintScene('a red fox', 8, 128, 96))).toBe(false);
  });

  it('gives image i of a batch the seed seed + i, in order', async () => {
    const { context, progress } = jobContext();
    const images = await createDemoImageBackend().generate(demoJob({ seed: 100, count: 3 }), context);
    expect(images.map((image) => image.seed)).toEqual([100, 101, 102]);
    for (const image of images) {
      expect(image.data.equals(await renderDemoImage('a lighthouse at dusk', image.seed, 64, 64))).toBe(true);
    }
    expect(progress.at(-1)).toBe(1);
  });

  it('simulates steps with progress when given a step delay', async () => {
    const backend = createDemoImageBackend({ stepDelayMs: 1 });
    const { context, progress } = jobContext();
    await backend.generate(demoJob({ steps: 4, count: 2 }), context);
    // One report per step (8) and one per finished image (2).
    expect(progress).toHaveLength(10);
    expect(progress.slice(0, 4)).toEqual([1 / 8, 2 / 8, 3 / 8, 4 / 8]);
    expect(progress.at(-1)).toBe(1);
  });

  it('stops when the job is aborted', async () => {
    const backend = createDemoImageBackend({ stepDelayMs: 20 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const running = backend.generate(demoJob({ steps: 50 }), jobContext(controller.signal).context);
    await expect(running).rejects.toThrow(BackendError);
    await expect(running).rejects.toThrow('demo: generation aborted');
  });

  it('reports how long painting and encoding take (information only, not a benchmark)', async () => {
    for (const size of [512, 1024]) {
      await renderDemoImage('warm-up', 0, size, size);
      let started = performance.now();
      paintScene('timing', 1, size, size);
      const paintMs = performance.now() - started;
      started = performance.now();
      await renderDemoImage('timing', 1, size, size);
      const totalMs = performance.now() - started;
      console.info(
        `demo image ${size}×${size}: paint ${paintMs.toFixed(1)} ms, paint + WebP ${totalMs.toFixed(1)} ms`,
      );
    }
  });
});
