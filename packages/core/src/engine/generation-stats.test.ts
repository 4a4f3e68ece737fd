/** `/stats/*` through the engine's verbs: generate → pop → submit, then totals and per-model counts. */
import { describe, expect, it } from 'vitest';
import { createTestHorde, REGEN_AGENT, rcOf, type TestHorde, type TestUser } from '../testing/test-horde.js';
import type { ModelState } from './generation-stats.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const KOBOLD = 'KoboldCppEmbedWorker:1';

interface Cast {
  t: TestHorde;
  alice: TestUser;
  gpu: TestUser;
}

/** `gpu` is trusted: it runs more than three workers (one per model). */
async function setup(): Promise<Cast> {
  const t = await createTestHorde();
  return { t, alice: await t.user('alice', 10_000), gpu: await t.user('gpu', 0, { trusted: true }) };
}

/** One image job of `width` × `height` × `steps` on `model`, popped and submitted (ok or faulted). */
async function drawOne(
  { t, alice, gpu }: Cast,
  model: string,
  options: { width?: number; height?: number; steps?: number; faulted?: boolean } = {},
) {
  const { width = 512, height = 512, steps = 30 } = options;
  await t.horde.generateImage(alice.creds, {
    prompt: 'a lighthouse at dusk',
    models: [model],
    params: { width, height, steps },
  });
  const pop = await t.horde.popImage(gpu.creds, {
    name: `gpu-${model}`,
    models: [model],
    bridge_agent: REGEN_AGENT,
    max_pixels: 1024 * 1024,
  });
  expect(pop.skipped).toEqual({});
  expect(pop.job?.model).toBe(model);
  t.clock.advance(2000);
  const state = options.faulted ? 'faulted' : 'ok';
  await t.horde.submitImage(gpu.creds, { id: pop.job!.id, generation: 'R2', seed: 1, state });
}

async function writeOne({ t, alice, gpu }: Cast, model: string, maxLength = 80) {
  await t.horde.generateText(alice.creds, { prompt: 'Once upon a time', params: { max_length: maxLength } });
  const pop = await t.horde.popText(gpu.creds, {
    name: `llm-${model}`,
    models: [model],
    bridge_agent: KOBOLD,
    max_length: 512,
  });
  expect(pop.job?.model).toBe(model);
  t.clock.advance(2000);
  await t.horde.submitText(gpu.creds, { id: pop.job!.id, generation: 'there was a horde' });
}

const images = (images: number, ps: number) => ({ images, ps });

describe('generation statistics', () => {
  it('starts at zero', async () => {
    const { t } = await setup();
    const zero = { images: 0, ps: 0 };
    expect(await t.horde.imageTotals()).toEqual({
      minute: zero,
      hour: zero,
      day: zero,
      month: zero,
      total: zero,
    });
    const none = { requests: 0, tokens: 0 };
    expect(await t.horde.textTotals()).toEqual({
      minute: none,
      hour: none,
      day: none,
      month: none,
      total: none,
    });
    expect(await t.horde.modelStats('image')).toEqual({ day: {}, month: {}, total: {} });
  });

  it('counts images and pixelsteps per window; an hour later they have left `hour` but not `day`', async () => {
    const cast = await setup();
    const { t } = cast;
    await drawOne(cast, 'stable_diffusion');
    await drawOne(cast, 'stable_diffusion', { width: 1024, height: 768, steps: 20 });
    await drawOne(cast, 'stable_diffusion', { faulted: true });
    const ps = 512 * 512 * 30 + 1024 * 768 * 20;
    expect(await t.horde.imageTotals()).toEqual({
      minute: images(2, ps),
      hour: images(2, ps),
      day: images(2, ps),
      month: images(2, ps),
      total: images(2, ps),
    });

    t.clock.advance(HOUR + 2 * MINUTE);
    await drawOne(cast, 'stable_diffusion');
    const later = ps + 512 * 512 * 30;
    expect(await t.horde.imageTotals()).toEqual({
      minute: images(1, 512 * 512 * 30),
      hour: images(1, 512 * 512 * 30),
      day: images(3, later),
      month: images(3, later),
      total: images(3, later),
    });

    t.clock.advance(2 * DAY);
    const totals = await t.horde.imageTotals();
    expect(totals.day).toEqual(images(0, 0));
    expect(totals.month).toEqual(images(3, later));
    expect(totals.total).toEqual(images(3, later));
    expect(await t.horde.modelStats('image')).toEqual({
      day: {},
      month: { stable_diffusion: 3 },
      total: { stable_diffusion: 3 },
    });
  });

  it('counts text jobs and their tokens apart from images', async () => {
    const cast = await setup();
    await writeOne(cast, 'koboldcpp/Mistral-7B-Instruct-v0.2', 80);
    await writeOne(cast, 'koboldcpp/Mistral-7B-Instruct-v0.2', 120);
    const totals = await cast.t.horde.textTotals();
    expect(totals.minute).toEqual({ requests: 2, tokens: 200 });
    expect(totals.total).toEqual({ requests: 2, tokens: 200 });
    expect((await cast.t.horde.imageTotals()).total).toEqual(images(0, 0));
  });

  it('splits models into known (in the reference) and custom', async () => {
    const cast = await setup();
    await drawOne(cast, 'stable_diffusion');
    await drawOne(cast, 'stable_diffusion');
    await drawOne(cast, 'my-own-finetune');
    await writeOne(cast, 'koboldcpp/Mistral-7B-Instruct-v0.2-Q4_K_M');
    await writeOne(cast, 'koboldcpp/my-tiny-llm');
    const { horde } = cast.t;

    const byState = async (kind: 'image' | 'text', state: ModelState) =>
      (await horde.modelStats(kind, state)).day;
    expect(await byState('image', 'known')).toEqual({ stable_diffusion: 2 });
    expect(await byState('image', 'custom')).toEqual({ 'my-own-finetune': 1 });
    expect(await byState('image', 'all')).toEqual({ 'my-own-finetune': 1, stable_diffusion: 2 });
    expect(await horde.modelStats('image')).toEqual(await horde.modelStats('image', 'known'));
    expect(await byState('text', 'known')).toEqual({ 'koboldcpp/Mistral-7B-Instruct-v0.2-Q4_K_M': 1 });
    expect(await byState('text', 'custom')).toEqual({ 'koboldcpp/my-tiny-llm': 1 });
  });

  it('refuses an unknown model_state with BadRequest', async () => {
    const { t } = await setup();
    expect(await rcOf(t.horde.modelStats('image', 'unknown' as ModelState))).toBe('BadRequest');
    expect(await rcOf(t.horde.modelStats('text', '' as ModelState))).toBe('BadRequest');
  });
});
