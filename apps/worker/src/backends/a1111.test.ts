import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeA1111, fakePng, startFakeA1111 } from '../testing/fake-a1111.js';
import { imageJob, jobContext } from '../testing/jobs.js';
import { createA1111Backend } from './a1111.js';
import { BackendError, type ImageJob } from './types.js';

const SD15 = 'v1-5-pruned-emaonly.safetensors';
const DREAM = 'dreamshaper_8.safetensors';

/** The fixture job on the fake's SD 1.5 checkpoint, at this file's size and sampling. */
const sd15Job = (overrides: Partial<ImageJob> = {}) =>
  imageJob({
    model: 'v1-5-pruned-emaonly',
    negativePrompt: 'blurry',
    height: 384,
    steps: 12,
    cfgScale: 6.5,
    sampler: 'k_dpmpp_2m',
    seed: 1234,
    ...overrides,
  });

let fake: FakeA1111;
afterEach(() => fake?.close());

async function setUp(options: Parameters<typeof startFakeA1111>[0] = {}, backendOptions = {}) {
  fake = await startFakeA1111({ checkpoints: [SD15, DREAM], ...options });
  return createA1111Backend({ url: fake.url, ...backendOptions });
}

describe('A1111 backend: models', () => {
  it('advertises every checkpoint by model name when there is no mapping', async () => {
    const backend = await setUp();
    expect(await backend.models()).toEqual(['v1-5-pruned-emaonly', 'dreamshaper_8']);
    expect(backend.kind).toBe('a1111');
    expect(Object.values(backend.features).every(Boolean)).toBe(true);
  });

  it('advertises only mapped models whose checkpoint exists', async () => {
    const backend = await setUp(
      {},
      { models: { Dreamshaper: 'dreamshaper_8', Deliberate: 'deliberate_v2' } },
    );
    expect(await backend.models()).toEqual(['Dreamshaper']);
    await expect(backend.generate(sd15Job({ model: 'Deliberate' }), jobContext().context)).rejects.toThrow(
      /no checkpoint for model Deliberate/,
    );
  });
});

describe('A1111 backend: txt2img', () => {
  it('maps the job onto txt2img and returns one image per seed', async () => {
    const backend = await setUp();
    const job = sd15Job({ count: 3, tiling: true, clipSkip: 2 });
    const images = await backend.generate(job, jobContext().context);

    const [call] = fake.callsTo('/sdapi/v1/txt2img', 'POST');
    expect(call?.body).toMatchObject({
      prompt: 'a lighthouse at dusk',
      negative_prompt: 'blurry',
      seed: 1234,
      steps: 12,
      cfg_scale: 6.5,
      width: 512,
      height: 384,
      sampler_name: 'DPM++ 2M',
      scheduler: 'Karras',
      batch_size: 3,
      n_iter: 1,
      tiling: true,
      override_settings: { CLIP_stop_at_last_layers: 2 },
      save_images: false,
    });
    expect(images.map((image) => image.seed)).toEqual([1234, 1235, 1236]);
    expect(images[0]?.data.equals(await fakePng(512, 384, 1234))).toBe(true);
    expect(images[2]?.data.equals(await fakePng(512, 384, 1236))).toBe(true);
    expect(images[0]?.metadata).toBeUndefined();
  });

  it('uses the Uniform schedule without karras, so DPM++ 2M does not fall back to Karras', async () => {
    const backend = await setUp();
    await backend.generate(sd15Job({ sampler: 'k_euler_a', karras: false }), jobContext().context);
    expect(fake.callsTo('/sdapi/v1/txt2img')[0]?.body).toMatchObject({
      sampler_name: 'Euler a',
      scheduler: 'Uniform',
    });
  });

  it('falls back to Euler a for an unknown sampler and says so in gen_metadata', async () => {
    const backend = await setUp();
    const [image] = await backend.generate(sd15Job({ sampler: 'k_mystery' }), jobContext().context);
    expect(fake.callsTo('/sdapi/v1/txt2img')[0]?.body).toMatchObject({ sampler_name: 'Euler a' });
    expect(image?.metadata).toEqual([
      { type: 'information', value: 'see_ref', ref: 'sampler k_mystery unknown; used Euler a' },
    ]);
  });

  it('runs a hires fix as a small first pass resized to the requested size', async () => {
    const backend = await setUp();
    const job = sd15Job({ width: 1024, height: 768, hiresFix: true, hiresFixDenoisingStrength: 0.4 });
    const [image] = await backend.generate(job, jobContext().context);
    expect(fake.callsTo('/sdapi/v1/txt2img')[0]?.body).toMatchObject({
      enable_hr: true,
      width: 640,
      height: 512,
      hr_resize_x: 1024,
      hr_resize_y: 768,
      hr_upscaler: 'Latent',
      denoising_strength: 0.4,
    });
    const metadata = await sharp(image?.data).metadata();
    expect([metadata.width, metadata.height]).toEqual([1024, 768]);
  });

  it('reports rising progress while generating, ending at 1', async () => {
    const backend = await setUp({ stepDelayMs: 25 }, { progressIntervalMs: 20 });
    const { context, progress } = jobContext();
    await backend.generate(sd15Job({ steps: 16 }), context);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toBe(1);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(fake.callsTo('/sdapi/v1/progress').length).toBeGreaterThan(0);
  });
});

describe('A1111 backend: checkpoints', () => {
  it('switches the checkpoint once, and only when a job needs another one', async () => {
    const backend = await setUp();
    const { context } = jobContext();
    await backend.generate(sd15Job(), context);
    expect(fake.callsTo('/sdapi/v1/options', 'POST')).toHaveLength(0);

    await backend.generate(sd15Job({ model: 'dreamshaper_8' }), context);
    await backend.generate(sd15Job({ model: 'dreamshaper_8' }), context);
    const switches = fake.callsTo('/sdapi/v1/options', 'POST');
    expect(switches.map((call) => call.body)).toEqual([{ sd_model_checkpoint: fake.titleOf(DREAM) }]);
    expect(fake.generations.map((generation) => generation.checkpoint)).toEqual([
      fake.titleOf(SD15),
      fake.titleOf(DREAM),
      fake.titleOf(DREAM),
    ]);
  });

  it('groups concurrent jobs for the same checkpoint behind one switch', async () => {
    const backend = await setUp({ stepDelayMs: 10, switchDelayMs: 30 });
    await backend.models();
    const run = (model: string) => backend.generate(sd15Job({ model }), jobContext().context);
    await Promise.all([run('v1-5-pruned-emaonly'), run('dreamshaper_8'), run('dreamshaper_8')]);

    expect(fake.switches).toEqual([{ checkpoint: fake.titleOf(DREAM), duringGeneration: false }]);
    expect(fake.generations.map((generation) => generation.checkpoint)).toEqual([
      fake.titleOf(SD15),
      fake.titleOf(DREAM),
      fake.titleOf(DREAM),
    ]);
  });

  it('never switches under a running generation, so every job runs on its own checkpoint', async () => {
    // A1111 loads whatever the option names when a generation starts: a switch asked for while job 1 runs
    // would also capture job 3, queued behind it. The gate makes job 3 wait and switch back.
    const backend = await setUp({ stepDelayMs: 10, switchDelayMs: 30 });
    await backend.models();
    const run = (model: string) => backend.generate(sd15Job({ model }), jobContext().context);
    await Promise.all([run('v1-5-pruned-emaonly'), run('dreamshaper_8'), run('v1-5-pruned-emaonly')]);

    expect(fake.generations.map((generation) => generation.checkpoint)).toEqual([
      fake.titleOf(SD15),
      fake.titleOf(DREAM),
      fake.titleOf(SD15),
    ]);
    expect(fake.switches.map((change) => change.duringGeneration)).toEqual([false, false]);
  });

  it('lets a job waiting for a switch be aborted without blocking the others', async () => {
    const backend = await setUp({ stepDelayMs: 20 });
    await backend.models();
    const controller = new AbortController();
    const first = backend.generate(sd15Job({ steps: 10 }), jobContext().context);
    const waiting = backend.generate(
      sd15Job({ model: 'dreamshaper_8' }),
      jobContext(controller.signal).context,
    );
    const third = backend.generate(sd15Job(), jobContext().context);
    controller.abort(new Error('worker stopping'));
    await expect(waiting).rejects.toThrow('worker stopping');
    await Promise.all([first, third]);
    expect(fake.switches).toEqual([]);
    expect(fake.generations).toHaveLength(2);
  });
});

describe('A1111 backend: img2img and painting', () => {
  it('sends the source image and denoising strength to img2img', async () => {
    const backend = await setUp();
    const source = await fakePng(512, 384, 7);
    const job = sd15Job({ source: { image: source, processing: 'img2img' }, denoisingStrength: 0.55 });
    const [image] = await backend.generate(job, jobContext().context);
    const body = fake.callsTo('/sdapi/v1/img2img')[0]?.body as Record<string, unknown>;
    expect(body.init_images).toEqual([source.toString('base64')]);
    expect(body).toMatchObject({ denoising_strength: 0.55, sampler_name: 'DPM++ 2M' });
    expect(body.mask).toBeUndefined();
    expect(fake.callsTo('/sdapi/v1/txt2img')).toHaveLength(0);
    expect((await sharp(image?.data).metadata()).width).toBe(512);
  });

  it('passes a source mask for inpainting', async () => {
    const backend = await setUp();
    const mask = await fakePng(512, 384, 8);
    const job = sd15Job({ source: { image: await fakePng(512, 384, 7), processing: 'inpainting', mask } });
    await backend.generate(job, jobContext().context);
    expect(fake.callsTo('/sdapi/v1/img2img')[0]?.body).toMatchObject({
      mask: mask.toString('base64'),
      inpainting_fill: 1,
      denoising_strength: 1,
    });
  });

  it('derives the mask from transparency when outpainting without one', async () => {
    const backend = await setUp();
    // Left half opaque (keep), right half transparent (paint).
    const left = await sharp({ create: { width: 32, height: 64, channels: 4, background: '#ff0000ff' } })
      .png()
      .toBuffer();
    const source = await sharp({ create: { width: 64, height: 64, channels: 4, background: '#00000000' } })
      .composite([{ input: left, left: 0, top: 0 }])
      .png()
      .toBuffer();
    await backend.generate(
      sd15Job({ source: { image: source, processing: 'outpainting' } }),
      jobContext().context,
    );

    const body = fake.callsTo('/sdapi/v1/img2img')[0]?.body as { mask: string; inpainting_fill: number };
    expect(body.inpainting_fill).toBe(2);
    const pixels = await sharp(Buffer.from(body.mask, 'base64')).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number) => pixels.data[x * pixels.info.channels] ?? -1;
    expect([at(0), at(63)]).toEqual([0, 255]);
  });
});

describe('A1111 backend: LoRAs and post-processing', () => {
  it('adds found LoRAs as prompt tags and reports the missing ones', async () => {
    const backend = await setUp({ loras: ['add_detail', { name: 'film_grain_v2', alias: 'FilmGrain' }] });
    const job = sd15Job({
      count: 2,
      loras: [
        { name: 'ADD_DETAIL', model: 0.8, clip: 0.8, isVersion: false },
        { name: 'filmgrain', model: 1, clip: 0.5, isVersion: false },
        { name: '123456', model: 1, clip: 1, isVersion: true },
      ],
    });
    const images = await backend.generate(job, jobContext().context);
    expect(fake.callsTo('/sdapi/v1/txt2img')[0]?.body).toMatchObject({
      prompt: 'a lighthouse at dusk <lora:add_detail:0.8> <lora:film_grain_v2:0.5:1>',
    });
    for (const image of images) {
      expect(image.metadata).toEqual([{ type: 'lora', value: 'download_failed', ref: '123456' }]);
    }
  });

  it('upscales and fixes faces through extra-single-image', async () => {
    const backend = await setUp();
    const job = sd15Job({
      width: 64,
      height: 64,
      postProcessing: ['CodeFormers', 'RealESRGAN_x4plus'],
      facefixerStrength: 0.5,
    });
    const [image] = await backend.generate(job, jobContext().context);
    const [call] = fake.callsTo('/sdapi/v1/extra-single-image', 'POST');
    expect(call?.body).toMatchObject({
      upscaler_1: 'R-ESRGAN 4x+',
      upscaling_resize: 4,
      codeformer_visibility: 0.5,
      upscale_first: false,
    });
    const metadata = await sharp(image?.data).metadata();
    expect([metadata.width, metadata.height]).toEqual([256, 256]);
  });

  it('finds an installed upscaler by a loose name and skips what A1111 cannot do', async () => {
    const backend = await setUp({ upscalers: ['4x_NMKD-Siax_200k', 'R-ESRGAN 4x+'] });
    const job = sd15Job({ width: 64, height: 64, postProcessing: ['NMKD_Siax', 'strip_background'] });
    const [image] = await backend.generate(job, jobContext().context);
    expect(fake.callsTo('/sdapi/v1/extra-single-image')[0]?.body).toMatchObject({
      upscaler_1: '4x_NMKD-Siax_200k',
      upscaling_resize: 4,
    });
    expect(image?.metadata).toEqual([
      { type: 'information', value: 'see_ref', ref: 'post-processor strip_background unavailable; skipped' },
    ]);
  });

  it('makes no extras call when nothing asked for can be done', async () => {
    const backend = await setUp();
    await backend.generate(sd15Job({ postProcessing: ['strip_background'] }), jobContext().context);
    expect(fake.callsTo('/sdapi/v1/extra-single-image')).toHaveLength(0);
  });
});

describe('A1111 backend: failures', () => {
  it('turns an error answer into a BackendError with A1111 message', async () => {
    const backend = await setUp();
    fake.failNext(1, { path: '/sdapi/v1/txt2img', status: 500 });
    const error = await backend.generate(sd15Job(), jobContext().context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).message).toBe(
      'a1111 /sdapi/v1/txt2img: injected failure: fake backend (HTTP 500)',
    );
    expect((error as BackendError).status).toBe(500);
  });

  it('aborts the request and interrupts A1111 when the job is aborted', async () => {
    const backend = await setUp({ stepDelayMs: 200 });
    const controller = new AbortController();
    const running = backend.generate(sd15Job({ steps: 50 }), jobContext(controller.signal).context);
    await waitFor(() => fake.generations.length === 1);
    controller.abort(new Error('job overran'));
    await expect(running).rejects.toThrow('job overran');
    await waitFor(() => fake.callsTo('/sdapi/v1/interrupt', 'POST').length === 1);
    expect(fake.generations[0]?.interrupted).toBe(true);
  });

  it('gives up after timeoutMs and interrupts A1111', async () => {
    const backend = await setUp({}, { timeoutMs: 150 });
    fake.hang(true, { path: '/sdapi/v1/txt2img' });
    await expect(backend.generate(sd15Job(), jobContext().context)).rejects.toThrow(
      'a1111 did not answer /sdapi/v1/txt2img within 0.15 s',
    );
    await waitFor(() => fake.callsTo('/sdapi/v1/interrupt', 'POST').length === 1);
  });

  it('says so when A1111 is unreachable', async () => {
    const backend = await setUp();
    await fake.close();
    await expect(backend.models()).rejects.toThrow(/a1111 at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
