import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { fakePng } from '../testing/fake-a1111.js';
import { type FakeComfyUi, type FakeNode, startFakeComfyUi } from '../testing/fake-comfyui.js';
import { imageJob, jobContext } from '../testing/jobs.js';
import { createComfyUiBackend } from './comfyui.js';
import { BackendError, type ImageJob } from './types.js';

/** The fixture job on the fake's SD 1.5 checkpoint, at this file's size and sampling. */
const sd15Job = (overrides: Partial<ImageJob> = {}) =>
  imageJob({
    model: 'v1-5-pruned-emaonly',
    negativePrompt: 'blurry',
    height: 384,
    steps: 8,
    cfgScale: 6.5,
    sampler: 'k_dpmpp_sde',
    seed: 1234,
    ...overrides,
  });

let fake: FakeComfyUi;
afterEach(() => fake?.close());

async function setUp(
  options: Parameters<typeof startFakeComfyUi>[0] = {},
  backendOptions: Partial<Parameters<typeof createComfyUiBackend>[0]> = {},
) {
  fake = await startFakeComfyUi({
    checkpoints: ['v1-5-pruned-emaonly.safetensors', 'SDXL/juggernautXL_v9.safetensors'],
    loras: ['add_detail.safetensors', 'styles/Film_Grain.safetensors'],
    ...options,
  });
  return createComfyUiBackend({ url: fake.url, pollIntervalMs: 20, ...backendOptions });
}

/** The last queued graph. */
function lastGraph(): Record<string, FakeNode> {
  const prompt = fake.prompts.at(-1)?.prompt;
  if (!prompt) throw new Error('no prompt queued');
  return prompt;
}

describe('ComfyUI backend: models', () => {
  it('advertises checkpoint file names without folder or extension', async () => {
    const backend = await setUp();
    expect(await backend.models()).toEqual(['v1-5-pruned-emaonly', 'juggernautXL_v9']);
    expect(backend.features).toMatchObject({ img2img: true, inpainting: true, lora: true, tiling: false });
  });

  it('advertises only mapped models whose file exists, and queues the mapped file', async () => {
    const backend = await setUp(
      {},
      { models: { Juggernaut: 'SDXL/juggernautXL_v9', Missing: 'nope.safetensors' } },
    );
    expect(await backend.models()).toEqual(['Juggernaut']);
    await backend.generate(sd15Job({ model: 'Juggernaut' }), jobContext().context);
    expect(lastGraph().checkpoint?.inputs.ckpt_name).toBe('SDXL/juggernautXL_v9.safetensors');
    await expect(backend.generate(sd15Job({ model: 'Missing' }), jobContext().context)).rejects.toThrow(
      'comfyui has no checkpoint for model Missing',
    );
  });
});

describe('ComfyUI backend: txt2img', () => {
  it('builds the graph from the job and returns the saved batch', async () => {
    const backend = await setUp();
    const images = await backend.generate(sd15Job({ count: 2 }), jobContext().context);

    const graph = lastGraph();
    expect(graph.checkpoint).toEqual({
      class_type: 'CheckpointLoaderSimple',
      inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' },
    });
    expect(graph.positive?.inputs).toEqual({ text: 'a lighthouse at dusk', clip: ['checkpoint', 1] });
    expect(graph.negative?.inputs).toEqual({ text: 'blurry', clip: ['checkpoint', 1] });
    expect(graph.latent).toEqual({
      class_type: 'EmptyLatentImage',
      inputs: { width: 512, height: 384, batch_size: 2 },
    });
    expect(graph.sampler?.inputs).toMatchObject({
      model: ['checkpoint', 0],
      seed: 1234,
      steps: 8,
      cfg: 6.5,
      sampler_name: 'dpmpp_sde',
      scheduler: 'karras',
      denoise: 1,
      latent_image: ['latent', 0],
    });
    expect(graph.save?.class_type).toBe('SaveImage');
    expect(graph.clip_skip).toBeUndefined();

    expect(images.map((image) => image.seed)).toEqual([1234, 1234]);
    expect(images[0]?.data.equals(await fakePng(512, 384, 1234, 0))).toBe(true);
    expect(images[1]?.data.equals(await fakePng(512, 384, 1234, 1))).toBe(true);
    expect(fake.prompts[0]?.clientId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('uses the normal scheduler without karras, and a fallback sampler it reports', async () => {
    const backend = await setUp();
    const [image] = await backend.generate(
      sd15Job({ sampler: 'k_unknown', karras: false }),
      jobContext().context,
    );
    expect(lastGraph().sampler?.inputs).toMatchObject({
      sampler_name: 'euler_ancestral',
      scheduler: 'normal',
    });
    expect(image?.metadata).toEqual([
      { type: 'information', value: 'see_ref', ref: 'sampler k_unknown unknown; used euler_ancestral' },
    ]);
  });

  it('chains LoRAs and clip skip, and reports LoRAs it does not have', async () => {
    const backend = await setUp();
    const job = sd15Job({
      clipSkip: 2,
      loras: [
        { name: 'ADD_DETAIL', model: 0.8, clip: 0.6, isVersion: false },
        { name: 'film_grain', model: 1, clip: 1, isVersion: false },
        { name: 'not_here', model: 1, clip: 1, isVersion: false },
      ],
    });
    const [image] = await backend.generate(job, jobContext().context);

    const graph = lastGraph();
    expect(graph.lora_1?.inputs).toEqual({
      model: ['checkpoint', 0],
      clip: ['checkpoint', 1],
      lora_name: 'add_detail.safetensors',
      strength_model: 0.8,
      strength_clip: 0.6,
    });
    expect(graph.lora_2?.inputs).toMatchObject({
      model: ['lora_1', 0],
      clip: ['lora_1', 1],
      lora_name: 'styles/Film_Grain.safetensors',
    });
    expect(graph.clip_skip?.inputs).toEqual({ clip: ['lora_2', 1], stop_at_clip_layer: -2 });
    expect(graph.positive?.inputs.clip).toEqual(['clip_skip', 0]);
    expect(graph.sampler?.inputs.model).toEqual(['lora_2', 0]);
    expect(image?.metadata).toEqual([{ type: 'lora', value: 'download_failed', ref: 'not_here' }]);
  });

  it('runs a hires fix as a second KSampler pass on the upscaled latent', async () => {
    const backend = await setUp({ stepDelayMs: 5 });
    const { context, progress } = jobContext();
    const job = sd15Job({ width: 1024, height: 768, hiresFix: true, hiresFixDenoisingStrength: 0.45 });
    const [image] = await backend.generate(job, context);

    const graph = lastGraph();
    expect(graph.latent?.inputs).toMatchObject({ width: 640, height: 512 });
    expect(graph.hires_upscale?.inputs).toMatchObject({ samples: ['sampler', 0], width: 1024, height: 768 });
    expect(graph.hires_sampler?.inputs).toMatchObject({
      latent_image: ['hires_upscale', 0],
      denoise: 0.45,
      seed: 1234,
    });
    expect(graph.decode?.inputs.samples).toEqual(['hires_sampler', 0]);
    const metadata = await sharp(image?.data).metadata();
    expect([metadata.width, metadata.height]).toEqual([1024, 768]);
    // Both passes report into one rising fraction.
    expect(progress.some((fraction) => fraction > 0.5 && fraction < 1)).toBe(true);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });

  it('reports progress per sampler step from the WebSocket, ending at 1', async () => {
    const backend = await setUp({ stepDelayMs: 5 });
    const { context, progress } = jobContext();
    await backend.generate(sd15Job({ steps: 10 }), context);
    expect(progress).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    // The end came over the socket: history was read once, not polled.
    expect(fake.callsTo(`/history/${fake.prompts[0]?.id}`)).toHaveLength(1);
  });

  it('still finishes when the WebSocket opens but never reports', async () => {
    const backend = await setUp({ webSocket: 'silent' });
    const images = await backend.generate(sd15Job(), jobContext().context);
    expect(images).toHaveLength(1);
    await waitFor(() => fake.socketCount === 0);
    // Only the slow safety look (20 poll intervals) found the end, not a busy poll.
    expect(fake.callsTo(`/history/${fake.prompts[0]?.id}`).length).toBeLessThanOrEqual(2);
  });

  it('polls /history when the WebSocket is unavailable', async () => {
    const backend = await setUp({ webSocket: false, stepDelayMs: 10 });
    const images = await backend.generate(sd15Job({ steps: 10 }), jobContext().context);
    expect(images).toHaveLength(1);
    expect(fake.callsTo(`/history/${fake.prompts[0]?.id}`).length).toBeGreaterThan(1);
  });
});

describe('ComfyUI backend: img2img and painting', () => {
  it('uploads the source at the job size and encodes it', async () => {
    const backend = await setUp();
    const source = await fakePng(256, 256, 5);
    const job = sd15Job({
      count: 2,
      denoisingStrength: 0.6,
      source: { image: source, processing: 'img2img' },
    });
    const images = await backend.generate(job, jobContext().context);

    const uploads = fake.callsTo('/upload/image', 'POST');
    expect(uploads).toHaveLength(1);
    expect(String(uploads[0]?.headers['content-type'])).toMatch(/^multipart\/form-data/);
    const [name, uploaded] = [...fake.uploads][0] ?? [];
    const size = await sharp(uploaded).metadata();
    expect([size.width, size.height]).toEqual([512, 384]);

    const graph = lastGraph();
    expect(graph.source).toEqual({ class_type: 'LoadImage', inputs: { image: name } });
    expect(graph.encode).toEqual({
      class_type: 'VAEEncode',
      inputs: { pixels: ['source', 0], vae: ['checkpoint', 2] },
    });
    expect(graph.batch?.inputs).toEqual({ samples: ['encode', 0], amount: 2 });
    expect(graph.sampler?.inputs).toMatchObject({ latent_image: ['batch', 0], denoise: 0.6 });
    expect(graph.latent).toBeUndefined();
    expect(images).toHaveLength(2);
  });

  it('inpaints with an uploaded mask', async () => {
    const backend = await setUp();
    const job = sd15Job({
      source: {
        image: await fakePng(512, 384, 5),
        processing: 'inpainting',
        mask: await fakePng(512, 384, 6),
      },
    });
    await backend.generate(job, jobContext().context);
    expect(fake.uploads.size).toBe(2);
    const graph = lastGraph();
    expect(graph.mask?.class_type).toBe('LoadImageMask');
    expect(graph.mask?.inputs.channel).toBe('red');
    expect(graph.encode).toMatchObject({ class_type: 'VAEEncodeForInpaint', inputs: { mask: ['mask', 0] } });
    expect(graph.sampler?.inputs.denoise).toBe(1);
  });

  it('outpaints with the mask LoadImage reads from transparency', async () => {
    const backend = await setUp();
    const job = sd15Job({ source: { image: await fakePng(512, 384, 5), processing: 'outpainting' } });
    await backend.generate(job, jobContext().context);
    expect(fake.uploads.size).toBe(1);
    expect(lastGraph().encode?.inputs.mask).toEqual(['source', 1]);
  });
});

describe('ComfyUI backend: a user workflow template', () => {
  const template = {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: '{{seed}}',
        steps: '{{steps}}',
        cfg: '{{cfg}}',
        sampler_name: '{{sampler}}',
        scheduler: '{{scheduler}}',
        denoise: '{{denoise}}',
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: '{{checkpoint}}' } },
    '5': {
      class_type: 'EmptyLatentImage',
      inputs: { width: '{{width}}', height: '{{height}}', batch_size: '{{batch}}' },
    },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'masterpiece, {{prompt}}', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: '{{negative_prompt}}', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'mine', images: ['8', 0] } },
  };

  it('fills placeholders with typed values and reads every saved image', async () => {
    const backend = await setUp({}, { workflow: template });
    expect(backend.features).toMatchObject({
      batch: true,
      karras: true,
      img2img: false,
      lora: false,
      hiresFix: false,
    });
    const images = await backend.generate(sd15Job({ count: 2 }), jobContext().context);

    const graph = lastGraph();
    expect(graph['3']?.inputs).toMatchObject({
      seed: 1234,
      steps: 8,
      cfg: 6.5,
      sampler_name: 'dpmpp_sde',
      scheduler: 'karras',
      denoise: 1,
    });
    expect(graph['4']?.inputs.ckpt_name).toBe('v1-5-pruned-emaonly.safetensors');
    expect(graph['5']?.inputs).toEqual({ width: 512, height: 384, batch_size: 2 });
    expect(graph['6']?.inputs.text).toBe('masterpiece, a lighthouse at dusk');
    expect(graph['7']?.inputs.text).toBe('blurry');
    expect(images).toHaveLength(2);
    expect(template['3'].inputs.seed).toBe('{{seed}}');
  });

  it('offers no batches when the template has no {{batch}}', async () => {
    const single = structuredClone(template) as Record<string, { inputs: Record<string, unknown> }>;
    if (single['5']) single['5'].inputs.batch_size = 1;
    const backend = await setUp({}, { workflow: single });
    expect(backend.features.batch).toBe(false);
  });
});

describe('ComfyUI backend: failures', () => {
  it('explains a graph ComfyUI rejects', async () => {
    const broken = {
      '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'missing.safetensors' } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    };
    const backend = await setUp({}, { workflow: broken });
    const error = await backend.generate(sd15Job(), jobContext().context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).status).toBe(400);
    expect((error as BackendError).message).toContain('Prompt outputs failed validation');
    expect((error as BackendError).message).toContain(
      "CheckpointLoaderSimple 1: Value not in list: ckpt_name: 'missing.safetensors' not in",
    );
    expect((error as BackendError).message).toContain(
      'PreviewImage 2: Return type mismatch between linked nodes',
    );
  });

  it('explains an unknown node type', async () => {
    const backend = await setUp({}, { workflow: { '1': { class_type: 'MagicNode', inputs: {} } } });
    await expect(backend.generate(sd15Job(), jobContext().context)).rejects.toThrow(
      "comfyui /prompt: Cannot execute because node MagicNode does not exist.: Node ID '#1' (HTTP 400)",
    );
  });

  it.each([
    ['the WebSocket', true],
    ['polling', false],
  ])('reports an execution error seen through %s', async (_path, webSocket) => {
    const backend = await setUp({ webSocket });
    fake.failNextExecution('CUDA out of memory');
    await expect(backend.generate(sd15Job(), jobContext().context)).rejects.toThrow(
      new BackendError('comfyui: KSampler failed: CUDA out of memory'),
    );
  });

  it('interrupts its prompt when the job is aborted', async () => {
    const backend = await setUp({ stepDelayMs: 50 });
    const controller = new AbortController();
    const running = backend.generate(sd15Job({ steps: 100 }), jobContext(controller.signal).context);
    await waitFor(() => fake.prompts.length === 1);
    controller.abort(new Error('job overran'));
    await expect(running).rejects.toThrow('job overran');
    const promptId = fake.prompts[0]?.id;
    await waitFor(() => fake.callsTo('/interrupt', 'POST').length === 1);
    expect(fake.callsTo('/interrupt')[0]?.body).toEqual({ prompt_id: promptId });
    expect(fake.callsTo('/queue', 'POST')[0]?.body).toEqual({ delete: [promptId] });
    await waitFor(() => fake.socketCount === 0);
  });

  it('gives up after timeoutMs while still uploading the source', async () => {
    const backend = await setUp({}, { timeoutMs: 150 });
    fake.hang(true, { path: '/upload/image' });
    const job = sd15Job({ source: { image: await fakePng(64, 64, 1), processing: 'img2img' } });
    await expect(backend.generate(job, jobContext().context)).rejects.toThrow(
      new BackendError('comfyui did not finish within 0.15 s'),
    );
    expect(fake.prompts).toHaveLength(0);
  });

  it('gives up after timeoutMs and interrupts its prompt', async () => {
    const backend = await setUp({ stepDelayMs: 50 }, { timeoutMs: 200 });
    await expect(backend.generate(sd15Job({ steps: 100 }), jobContext().context)).rejects.toThrow(
      'comfyui did not finish within 0.2 s',
    );
    await waitFor(() => fake.callsTo('/interrupt', 'POST').length === 1);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
