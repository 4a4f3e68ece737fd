import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeOpenAiImages, startFakeOpenAiImages } from '../testing/fake-openai-images.js';
import { imageJob, jobContext } from '../testing/jobs.js';
import { createA1111Backend } from './a1111.js';
import { createComfyUiBackend } from './comfyui.js';
import { describeMissingImageFeatures } from './describe.js';
import { createOpenAiImagesBackend } from './openai-images.js';
import { BackendError, type ImageJob } from './types.js';

/** The fixture job for dall-e-3, at this file's size and seed. */
const dalleJob = (overrides: Partial<ImageJob> = {}) =>
  imageJob({ model: 'dall-e-3', negativePrompt: 'blurry', height: 384, steps: 30, seed: 99, ...overrides });

async function sizeOf(data: Buffer | undefined): Promise<[number | undefined, number | undefined]> {
  const metadata = await sharp(data).metadata();
  return [metadata.width, metadata.height];
}

let fake: FakeOpenAiImages;
afterEach(() => fake?.close());

describe('OpenAI images backend', () => {
  it('advertises its model, or the horde name it is given, and only batches', async () => {
    const plain = createOpenAiImagesBackend({ url: 'http://127.0.0.1:1', model: 'dall-e-3' });
    const named = createOpenAiImagesBackend({
      url: 'http://127.0.0.1:1',
      model: 'sd-turbo',
      hordeModel: 'SDXL Turbo',
    });
    expect(await plain.models()).toEqual(['dall-e-3']);
    expect(await named.models()).toEqual(['SDXL Turbo']);
    const offered = Object.entries(plain.features).filter(([, on]) => on);
    expect(offered).toEqual([['batch', true]]);
  });

  it('asks for the job size with the API key and returns images of exactly that size', async () => {
    fake = await startFakeOpenAiImages({ apiKey: 'sk-test' });
    const backend = createOpenAiImagesBackend({ url: fake.url, apiKey: 'sk-test', model: 'dall-e-2' });
    const images = await backend.generate(dalleJob({ count: 2 }), jobContext().context);

    const [call] = fake.callsTo('/v1/images/generations', 'POST');
    expect(call?.headers.authorization).toBe('Bearer sk-test');
    expect(call?.body).toEqual({
      model: 'dall-e-2',
      prompt: 'a lighthouse at dusk',
      n: 2,
      size: '512x384',
      response_format: 'b64_json',
    });
    expect(images.map((image) => image.seed)).toEqual([99, 100]);
    expect(await sizeOf(images[0]?.data)).toEqual([512, 384]);
    expect(images[0]?.data.equals(images[1]?.data ?? Buffer.alloc(0))).toBe(false);
  });

  it('requests the allowed size nearest in aspect ratio, then resizes to the job size', async () => {
    const sizes = ['1024x1024', '1792x1024', '1024x1792'];
    fake = await startFakeOpenAiImages({ sizes });
    const backend = createOpenAiImagesBackend({ url: `${fake.url}/v1/`, model: 'dall-e-3', sizes });
    const { context, progress } = jobContext();

    const [wide] = await backend.generate(dalleJob({ width: 640, height: 384 }), context);
    const [tall] = await backend.generate(dalleJob({ width: 384, height: 576 }), context);
    const [square] = await backend.generate(dalleJob({ width: 448, height: 448 }), context);
    expect(
      fake.callsTo('/v1/images/generations').map((call) => (call.body as { size: string }).size),
    ).toEqual(['1792x1024', '1024x1792', '1024x1024']);
    expect(await sizeOf(wide?.data)).toEqual([640, 384]);
    expect(await sizeOf(tall?.data)).toEqual([384, 576]);
    expect(await sizeOf(square?.data)).toEqual([448, 448]);
    expect(progress).toEqual([1, 1, 1]);
  });

  it('leaves response_format out for gpt-image models, which reject it', async () => {
    fake = await startFakeOpenAiImages();
    const backend = createOpenAiImagesBackend({ url: fake.url, model: 'gpt-image-1' });
    const [image] = await backend.generate(dalleJob(), jobContext().context);
    expect(fake.callsTo('/v1/images/generations')[0]?.body).not.toHaveProperty('response_format');
    expect(await sizeOf(image?.data)).toEqual([512, 384]);
  });

  it('downloads images answered as URLs, without sending the API key along', async () => {
    fake = await startFakeOpenAiImages({ answerWithUrls: true });
    const backend = createOpenAiImagesBackend({ url: fake.url, apiKey: 'sk-test', model: 'dall-e-2' });
    const [image] = await backend.generate(dalleJob(), jobContext().context);
    const downloads = fake.calls.filter((call) => call.path.startsWith('/files/'));
    expect(downloads).toHaveLength(1);
    expect(downloads[0]?.headers.authorization).toBeUndefined();
    expect(await sizeOf(image?.data)).toEqual([512, 384]);
  });

  it('splits a batch larger than one request may ask for', async () => {
    fake = await startFakeOpenAiImages({ maxImages: 2 });
    const backend = createOpenAiImagesBackend({ url: fake.url, model: 'dall-e-2', maxImagesPerRequest: 2 });
    const { context, progress } = jobContext();
    const images = await backend.generate(dalleJob({ count: 3 }), context);
    expect(fake.callsTo('/v1/images/generations').map((call) => (call.body as { n: number }).n)).toEqual([
      2, 1,
    ]);
    expect(images.map((image) => image.seed)).toEqual([99, 100, 101]);
    expect(progress).toEqual([2 / 3, 1]);
  });

  it("turns OpenAI's error answers into BackendErrors with its message", async () => {
    fake = await startFakeOpenAiImages({ apiKey: 'sk-right', sizes: ['1024x1024'] });
    const wrongKey = createOpenAiImagesBackend({ url: fake.url, apiKey: 'sk-wrong', model: 'dall-e-3' });
    const error = await wrongKey
      .generate(dalleJob(), jobContext().context)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).status).toBe(401);
    expect((error as BackendError).message).toBe('openai-images: Incorrect API key provided. (HTTP 401)');

    const wrongSize = createOpenAiImagesBackend({ url: fake.url, apiKey: 'sk-right', model: 'dall-e-3' });
    await expect(wrongSize.generate(dalleJob(), jobContext().context)).rejects.toThrow(
      "openai-images: Invalid value: '512x384'. Supported values are: '1024x1024'. (HTTP 400)",
    );
  });

  it('stops waiting when the job is aborted, and after timeoutMs', async () => {
    fake = await startFakeOpenAiImages();
    fake.hang(true);
    const backend = createOpenAiImagesBackend({ url: fake.url, model: 'dall-e-2', timeoutMs: 150 });
    const controller = new AbortController();
    const aborted = backend.generate(dalleJob(), jobContext(controller.signal).context);
    controller.abort(new Error('worker stopping'));
    await expect(aborted).rejects.toThrow('worker stopping');
    await expect(backend.generate(dalleJob(), jobContext().context)).rejects.toThrow(
      'openai-images did not answer within 0.15 s',
    );
  });
});

describe('describeMissingImageFeatures', () => {
  it('lists what openai-images lacks, what is not advertised and what is ignored', () => {
    const backend = createOpenAiImagesBackend({ url: 'http://127.0.0.1:1', model: 'dall-e-3' });
    expect(describeMissingImageFeatures(backend)).toBe(
      'openai-images cannot do img2img, inpainting, LoRAs, post-processing, karras, tiling, clip skip, hires fix; ' +
        'not advertised: allow_img2img, allow_painting, allow_lora, allow_post_processing; ' +
        'ignored when asked: karras, tiling, clip skip, hires fix',
    );
  });

  it('names only ignored features for ComfyUI, and nothing for A1111', () => {
    const comfy = createComfyUiBackend({ url: 'http://127.0.0.1:1' });
    expect(describeMissingImageFeatures(comfy)).toBe(
      'comfyui cannot do post-processing, tiling; not advertised: allow_post_processing; ignored when asked: tiling',
    );
    const a1111 = createA1111Backend({ url: 'http://127.0.0.1:1' });
    expect(describeMissingImageFeatures(a1111)).toBe('a1111 can do every horde feature hordekit maps');
  });

  it('mentions batches a template-driven ComfyUI makes one image at a time', () => {
    const comfy = createComfyUiBackend({
      url: 'http://127.0.0.1:1',
      workflow: { '1': { class_type: 'X', inputs: {} } },
    });
    expect(describeMissingImageFeatures(comfy)).toMatch(/; batches run one image per call$/);
  });
});
