/**
 * Each backend end to end: a request goes into a real community horde, our worker pops it, calls the
 * fake backend (a real HTTP server speaking that backend's API) with the mapped parameters, uploads the
 * image, and the requester downloads the same bytes; kudos move as the ledger says.
 */
import {
  createA1111Backend,
  createComfyUiBackend,
  createKoboldBackend,
  createOpenAiCompletionsBackend,
  createOpenAiImagesBackend,
  type ImageWorker,
  type TextWorker,
  toWebp,
} from '@hordekit/worker';
import {
  fakePng,
  startFakeA1111,
  startFakeComfyUi,
  startFakeKoboldCpp,
  startFakeOpenAiCompletions,
  startFakeOpenAiImages,
} from '@hordekit/worker/testing';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TINY_WEBP } from '../support/horde-http.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  downloadImages,
  kudosOf,
  requestImage,
  requestText,
  startImageWorker,
  startTextWorker,
  waitForStatus,
} from '../support/worker-harness.js';

let ts: TestServer;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  ts = await startTestServer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await ts.close();
});

function track<T extends ImageWorker | TextWorker>(worker: T): T {
  cleanups.push(() => worker.stop({ halt: true }));
  return worker;
}

/** The kudos the worker reported equal its owner's gain; the requester paid; the ledger adds up. */
async function expectKudosMoved(
  owner: { id: number },
  ownerBefore: number,
  requester: { id: number },
  requesterBefore: number,
  reported: () => number | undefined,
) {
  await expect.poll(reported).toBeGreaterThan(0);
  expect(await kudosOf(ts, owner.id)).toBeCloseTo(ownerBefore + reported()!, 2);
  expect(await kudosOf(ts, requester.id)).toBeLessThan(requesterBefore);
  await expectConsistentLedger(ts.horde.store);
}

/** A fake A1111 with one checkpoint, served as `Deliberate` by a worker named `name`. */
async function deliberateOnA1111(name: string) {
  const fake = await startFakeA1111({ checkpoints: ['deliberate_v2.safetensors'] });
  cleanups.push(() => fake.close());
  const backend = createA1111Backend({ url: fake.url, models: { Deliberate: 'deliberate_v2.safetensors' } });
  track((await startImageWorker(ts, backend, { name })).worker);
  return fake;
}

describe('AUTOMATIC1111 / Forge', () => {
  it('txt2img: switches the checkpoint, maps every parameter, and the requester gets the same bytes', async () => {
    const fake = await startFakeA1111({
      checkpoints: ['v1-5-pruned-emaonly.safetensors', 'deliberate_v2.safetensors'],
      stepDelayMs: 5,
    });
    cleanups.push(() => fake.close());
    const owner = await ts.user('gpu-owner');
    const requester = await ts.user('requester', 1000);
    const backend = createA1111Backend({
      url: fake.url,
      models: { Deliberate: 'deliberate_v2.safetensors' },
    });
    const { worker, reporter } = await startImageWorker(ts, backend, { owner, name: 'a1111-box', amount: 2 });
    track(worker);
    const [ownerBefore, requesterBefore] = [await kudosOf(ts, owner.id), await kudosOf(ts, requester.id)];

    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a lighthouse at dusk ### blurry, text',
      models: ['Deliberate'],
      params: {
        width: 640,
        height: 448,
        steps: 20,
        cfg_scale: 6.5,
        sampler_name: 'k_dpmpp_2m',
        karras: true,
        seed: '4242',
        n: 2,
        clip_skip: 2,
        tiling: true,
      },
    });
    const status = await waitForStatus(ts, id);

    const [call] = fake.generations;
    expect(call?.route).toBe('txt2img');
    expect(call?.checkpoint).toBe(fake.titleOf('deliberate_v2.safetensors'));
    expect(fake.callsTo('/sdapi/v1/options', 'POST')).toHaveLength(1);
    expect(call?.body).toMatchObject({
      prompt: 'a lighthouse at dusk',
      negative_prompt: 'blurry, text',
      width: 640,
      height: 448,
      steps: 20,
      cfg_scale: 6.5,
      sampler_name: 'DPM++ 2M',
      scheduler: 'Karras',
      seed: 4242,
      batch_size: 2,
      tiling: true,
      override_settings: { CLIP_stop_at_last_layers: 2 },
    });
    const images = await downloadImages(ts, status);
    const bySeed = new Map<number, Buffer>(
      status.generations.map((g: { seed: string }, i: number) => [Number(g.seed), images[i]!] as const),
    );
    expect([...bySeed.keys()].sort()).toEqual([4242, 4243]);
    for (const [seed, bytes] of bySeed) {
      expect(bytes.equals(await toWebp(await fakePng(640, 448, seed))), `seed ${seed}`).toBe(true);
    }
    expect(reporter.progress.length).toBeGreaterThan(0);
    await expectKudosMoved(owner, ownerBefore, requester, requesterBefore, () => reporter.last?.kudos);
  });

  it('img2img with a mask: the source image and mask reach /img2img', async () => {
    const fake = await deliberateOnA1111('painter');
    const requester = await ts.user('requester', 1000);
    const source = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const mask = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a red door',
      models: ['Deliberate'],
      params: { width: 512, height: 512, steps: 10, denoising_strength: 0.6, seed: '7' },
      source_image: source.toString('base64'),
      source_mask: mask.toString('base64'),
      source_processing: 'inpainting',
    });
    const status = await waitForStatus(ts, id);
    expect(status.generations).toHaveLength(1);
    const [call] = fake.generations;
    expect(call?.route).toBe('img2img');
    expect(call?.body.denoising_strength).toBe(0.6);
    const sent = Buffer.from(
      String((call!.body.init_images as string[])[0]).replace(/^data:[^,]*,/, ''),
      'base64',
    );
    expect((await sharp(sent).raw().toBuffer()).equals(await sharp(source).raw().toBuffer())).toBe(true);
    expect(typeof call?.body.mask).toBe('string');
  });
});

describe('ComfyUI', () => {
  it('queues the workflow, follows its progress, fetches the output, and the requester gets the same bytes', async () => {
    const fake = await startFakeComfyUi({ checkpoints: ['deliberate_v2.safetensors'], stepDelayMs: 5 });
    cleanups.push(() => fake.close());
    const owner = await ts.user('gpu-owner');
    const requester = await ts.user('requester', 1000);
    const backend = createComfyUiBackend({
      url: fake.url,
      models: { Deliberate: 'deliberate_v2.safetensors' },
    });
    const { worker, reporter } = await startImageWorker(ts, backend, { owner, name: 'comfy-box' });
    track(worker);
    const [ownerBefore, requesterBefore] = [await kudosOf(ts, owner.id), await kudosOf(ts, requester.id)];
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a lighthouse ### fog',
      models: ['Deliberate'],
      params: {
        width: 512,
        height: 768,
        steps: 12,
        cfg_scale: 5,
        sampler_name: 'k_euler_a',
        karras: false,
        seed: '99',
      },
    });
    const status = await waitForStatus(ts, id);
    const graph = fake.prompts[0]!.prompt;
    const nodes = Object.values(graph) as { class_type: string; inputs: Record<string, unknown> }[];
    const sampler = nodes.find((node) => node.class_type === 'KSampler')!;
    expect(sampler.inputs).toMatchObject({
      seed: 99,
      steps: 12,
      cfg: 5,
      sampler_name: 'euler_ancestral',
      scheduler: 'normal',
    });
    expect(nodes.find((node) => node.class_type === 'CheckpointLoaderSimple')?.inputs.ckpt_name).toBe(
      'deliberate_v2.safetensors',
    );
    expect(nodes.find((node) => node.class_type === 'EmptyLatentImage')?.inputs).toMatchObject({
      width: 512,
      height: 768,
      batch_size: 1,
    });
    const texts = nodes
      .filter((node) => node.class_type === 'CLIPTextEncode')
      .map((node) => node.inputs.text);
    expect(texts.sort()).toEqual(['a lighthouse', 'fog']);
    const [image] = await downloadImages(ts, status);
    expect(image!.equals(await toWebp(await fakePng(512, 768, 99, 0)))).toBe(true);
    expect(reporter.progress.length).toBeGreaterThan(0);
    await expectKudosMoved(owner, ownerBefore, requester, requesterBefore, () => reporter.last?.kudos);
  });
});

describe('OpenAI-compatible images', () => {
  it('asks for the image with the key and gets it resized to the requested size', async () => {
    const fake = await startFakeOpenAiImages({
      apiKey: 'sk-test',
      sizes: ['1024x1024', '1792x1024', '1024x1792'],
    });
    cleanups.push(() => fake.close());
    const requester = await ts.user('requester', 1000);
    const backend = createOpenAiImagesBackend({
      url: fake.url,
      apiKey: 'sk-test',
      model: 'dall-e-3',
      hordeModel: 'Deliberate',
      sizes: ['1024x1024', '1792x1024', '1024x1792'],
    });
    const { worker, reporter } = await startImageWorker(ts, backend, { name: 'cloud-box' });
    track(worker);
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a lighthouse',
      models: ['Deliberate'],
      params: { width: 768, height: 448, steps: 10, seed: '5' },
    });
    const status = await waitForStatus(ts, id);
    const [call] = fake.callsTo('/v1/images/generations', 'POST');
    expect(call?.headers.authorization).toBe('Bearer sk-test');
    expect(call?.body).toMatchObject({ model: 'dall-e-3', prompt: 'a lighthouse', n: 1, size: '1792x1024' });
    const [image] = await downloadImages(ts, status);
    const meta = await sharp(image!).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 768, 448]);
    expect(reporter.text()).toMatch(/not advertised.*allow_img2img/);
  });
});

describe('KoboldCpp', () => {
  it('passes the Kobold payload through, clamped to its limits, and submits the text', async () => {
    const fake = await startFakeKoboldCpp({
      model: 'koboldcpp/FakeLlama-7B',
      maxLength: 256,
      trueMaxContextLength: 4096,
    });
    cleanups.push(() => fake.close());
    const owner = await ts.user('text-owner');
    const requester = await ts.user('requester', 1000);
    const backend = await createKoboldBackend({ url: fake.url });
    const { worker, reporter } = await startTextWorker(ts, backend, { owner, name: 'kobold-box' });
    track(worker);
    const [ownerBefore, requesterBefore] = [await kudosOf(ts, owner.id), await kudosOf(ts, requester.id)];
    const id = await requestText(ts, requester.apiKey, {
      prompt: 'The lighthouse keeper said',
      models: ['koboldcpp/FakeLlama-7B'],
      params: {
        max_length: 120,
        max_context_length: 2048,
        temperature: 0.7,
        top_p: 0.9,
        rep_pen: 1.1,
        stop_sequence: ['\n'],
      },
    });
    const status = await waitForStatus(ts, id, 'text');
    const [body] = fake.generateBodies;
    expect(body).toMatchObject({
      prompt: 'The lighthouse keeper said',
      max_length: 120,
      max_context_length: 2048,
      temperature: 0.7,
      top_p: 0.9,
      rep_pen: 1.1,
      stop_sequence: ['\n'],
    });
    const answer = (await (
      await fetch(`${fake.url}/api/v1/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json()) as { results: { text: string }[] };
    expect(status.generations[0].text).toBe(answer.results[0]!.text);
    expect(status.generations[0].worker_name).toBe('kobold-box');
    await expectKudosMoved(owner, ownerBefore, requester, requesterBefore, () => reporter.last?.kudos);
  });
});

describe('OpenAI-compatible completions', () => {
  it('maps the Kobold fields the way the legacy worker does', async () => {
    const fake = await startFakeOpenAiCompletions({ models: ['llama-3-8b'], apiKey: 'local-key' });
    cleanups.push(() => fake.close());
    const requester = await ts.user('requester', 1000);
    const backend = await createOpenAiCompletionsBackend({
      url: fake.url,
      apiKey: 'local-key',
      maxLength: 200,
    });
    const { worker } = await startTextWorker(ts, backend, { name: 'vllm-box' });
    track(worker);
    const id = await requestText(ts, requester.apiKey, {
      prompt: 'Once upon a time',
      models: ['llama-3-8b'],
      params: {
        max_length: 80,
        temperature: 0.5,
        top_p: 0.8,
        top_k: 40,
        rep_pen: 1.2,
        stop_sequence: ['a', 'b', 'c', 'd', 'e'],
      },
    });
    const status = await waitForStatus(ts, id, 'text');
    const [body] = fake.completionBodies;
    expect(body).toMatchObject({
      model: 'llama-3-8b',
      prompt: 'Once upon a time',
      max_tokens: 80,
      temperature: 0.5,
      top_p: 0.8,
      top_k: 40,
      repetition_penalty: 1.2,
      stop: ['a', 'b', 'c', 'd'],
    });
    expect(fake.callsTo('/v1/completions')[0]?.headers.authorization).toBe('Bearer local-key');
    expect(status.generations[0].text.length).toBeGreaterThan(0);
  });
});

describe('base64 fallback', () => {
  it('sends the image inside the submit when the horde gives no upload URL (r2: false)', async () => {
    await deliberateOnA1111('legacy-style');
    const requester = await ts.user('requester', 1000);
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a cat',
      models: ['Deliberate'],
      r2: false,
      params: { width: 512, height: 512, steps: 10, seed: '11' },
    });
    const status = await waitForStatus(ts, id);
    const img = Buffer.from(status.generations[0].img, 'base64');
    expect(img.equals(await toWebp(await fakePng(512, 512, 11)))).toBe(true);
    expect(img.equals(TINY_WEBP)).toBe(false);
  });
});
