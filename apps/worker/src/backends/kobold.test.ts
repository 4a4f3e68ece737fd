import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeKoboldCpp,
  type FakeKoboldCppOptions,
  startFakeKoboldCpp,
} from '../testing/fake-koboldcpp.js';
import { jobContext, textJob } from '../testing/jobs.js';
import { createKoboldBackend, type KoboldBackendOptions } from './kobold.js';
import { BackendError } from './types.js';

const fakes: FakeKoboldCpp[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function startFake(options: FakeKoboldCppOptions = {}) {
  const fake = await startFakeKoboldCpp(options);
  fakes.push(fake);
  return fake;
}

function backendFor(fake: FakeKoboldCpp, options: Partial<KoboldBackendOptions> = {}) {
  return createKoboldBackend({ url: fake.url, ...options });
}

describe('kobold backend: model and limits', () => {
  it('advertises the loaded model and learns koboldcpp limits (true context first)', async () => {
    const fake = await startFake({
      model: 'koboldcpp/Mistral-7B',
      maxLength: 300,
      trueMaxContextLength: 8192,
    });
    const backend = await backendFor(fake);
    expect(backend.kind).toBe('koboldcpp');
    expect(await backend.models()).toEqual(['koboldcpp/Mistral-7B']);
    expect(backend.maxLength).toBe(300);
    expect(backend.maxContextLength).toBe(8192);
    expect(fake.callsTo('/api/extra/true_max_context_length')).toHaveLength(1);
    expect(fake.callsTo('/api/v1/config/max_context_length')).toHaveLength(0);
  });

  it('falls back to /api/v1/config/max_context_length on KoboldAI United', async () => {
    const fake = await startFake({ flavour: 'koboldai', maxContextLength: 1536 });
    const backend = await backendFor(fake);
    expect(backend.maxContextLength).toBe(1536);
    expect(fake.callsTo('/api/extra/true_max_context_length')).toHaveLength(1);
  });

  it('takes limits and the horde model name from the options when given', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake, {
      maxLength: 100,
      maxContextLength: 1000,
      hordeModel: 'my/model',
    });
    expect([backend.maxLength, backend.maxContextLength]).toEqual([100, 1000]);
    expect(await backend.models()).toEqual(['my/model']);
    expect(fake.callsTo('/api/v1/config/max_length')).toHaveLength(0);
    expect(fake.callsTo('/api/extra/true_max_context_length')).toHaveLength(0);
  });

  it('fails with a BackendError when nothing listens', async () => {
    const fake = await startFake();
    const url = fake.url;
    await fake.close();
    fakes.splice(0);
    await expect(createKoboldBackend({ url })).rejects.toThrow(/unreachable: ECONNREFUSED/);
  });
});

describe('kobold backend: generate', () => {
  it('passes the horde payload through with lengths clamped to the backend', async () => {
    const fake = await startFake({ maxLength: 200, trueMaxContextLength: 2048 });
    const backend = await backendFor(fake);
    const params = {
      temperature: 0.7,
      top_p: 0.92,
      top_k: 100,
      top_a: 0,
      typical: 1,
      tfs: 1,
      rep_pen: 1.1,
      rep_pen_range: 320,
      rep_pen_slope: 0.7,
      sampler_order: [6, 0, 1, 3, 4, 2, 5],
      stop_sequence: ['\nYou:', '###'],
      use_default_badwordsids: false,
      min_p: 0.05,
      dynatemp_range: 0.5,
      dynatemp_exponent: 1,
      smoothing_factor: 0.2,
      singleline: false,
      n: 1,
    };
    const { context } = jobContext();
    const result = await backend.generate(
      textJob({ prompt: 'Hello there', maxLength: 512, maxContextLength: 4096, params }),
      context,
    );
    expect(result.text).toBe(' [reply to 11 chars]');

    const sent = fake.generateBodies[0]!;
    expect(sent).toEqual({
      ...params,
      prompt: 'Hello there',
      max_length: 200,
      max_context_length: 2048,
      quiet: true,
      genkey: expect.stringMatching(/^KCPP[0-9a-f]{12}$/),
    });
  });

  it('keeps lengths below the limits as the job asked', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake);
    await backend.generate(textJob({ maxLength: 64, maxContextLength: 1024 }), jobContext().context);
    expect(fake.generateBodies[0]).toMatchObject({ max_length: 64, max_context_length: 1024 });
  });

  it('reports progress from /api/extra/generate/check as tokens so far / max_length', async () => {
    const fake = await startFake({ tokenDelayMs: 40, reply: () => 'abcd'.repeat(8) });
    const backend = await backendFor(fake, { progressIntervalMs: 15 });
    const { context, progress } = jobContext();
    const result = await backend.generate(textJob({ maxLength: 8 }), context);
    expect(result.text).toBe('abcd'.repeat(8));

    expect(progress.length).toBeGreaterThan(2);
    expect(progress.some((fraction) => fraction > 0 && fraction < 1)).toBe(true);
    expect(progress.every((fraction) => fraction >= 0 && fraction <= 1)).toBe(true);
    const genkey = fake.generateBodies[0]!.genkey;
    const checks = fake.callsTo('/api/extra/generate/check', 'POST');
    expect(checks.every((call) => (call.body as { genkey?: unknown }).genkey === genkey)).toBe(true);
  });

  it('stops asking for progress where the route does not exist (KoboldAI United)', async () => {
    const fake = await startFake({ flavour: 'koboldai', tokenDelayMs: 30, reply: () => 'abcd'.repeat(6) });
    const backend = await backendFor(fake, { progressIntervalMs: 10 });
    const { context, progress } = jobContext();
    await backend.generate(textJob({ maxLength: 8 }), context);
    expect(progress).toEqual([]);
    expect(fake.callsTo('/api/extra/generate/check')).toHaveLength(1);
  });

  it('aborts the generation on koboldcpp with the same genkey when the job is aborted', async () => {
    const fake = await startFake({ tokenDelayMs: 50, reply: () => 'x'.repeat(400) });
    const backend = await backendFor(fake);
    const controller = new AbortController();
    const running = backend.generate(textJob({ maxLength: 100 }), jobContext(controller.signal).context);
    setTimeout(() => controller.abort(), 120);
    await expect(running).rejects.toThrow(BackendError);
    await expect(running).rejects.toThrow(/aborted/);

    await expect.poll(() => fake.callsTo('/api/extra/abort', 'POST').length).toBe(1);
    const abort = fake.callsTo('/api/extra/abort', 'POST')[0]!;
    expect(abort.body).toEqual({ genkey: fake.generateBodies[0]!.genkey });
  });

  it('aborts koboldcpp and fails with a BackendError when the backend takes too long', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake, { timeoutMs: 150 });
    fake.hang(true, { path: '/api/v1/generate' });
    await expect(backend.generate(textJob(), jobContext().context)).rejects.toThrow(
      /no answer from \/api\/v1\/generate within 0.15 s/,
    );
    await expect.poll(() => fake.callsTo('/api/extra/abort', 'POST').length).toBe(1);
  });

  it("fails with koboldcpp's own message when it is busy", async () => {
    const fake = await startFake({ tokenDelayMs: 30, reply: () => 'y'.repeat(40) });
    const backend = await backendFor(fake);
    const other = fetch(`${fake.url}/api/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'someone else', max_length: 20 }),
    });
    await expect.poll(() => fake.generateBodies.length).toBe(1);

    const error = await backend.generate(textJob(), jobContext().context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).status).toBe(503);
    expect((error as BackendError).message).toBe(
      'Kobold API answered 503: Server is busy; please try again later.',
    );
    await other;
  });

  it('turns an error answer into a BackendError with its status and message', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake);
    fake.failNext(1, { path: '/api/v1/generate', status: 500 });
    const error = await backend.generate(textJob(), jobContext().context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ status: 500, message: 'Kobold API answered 500: fake backend' });
  });
});
