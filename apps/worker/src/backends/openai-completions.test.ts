import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeOpenAiCompletions,
  type FakeOpenAiCompletionsOptions,
  startFakeOpenAiCompletions,
} from '../testing/fake-openai-completions.js';
import { jobContext, textJob } from '../testing/jobs.js';
import {
  createOpenAiCompletionsBackend,
  type OpenAiCompletionsBackendOptions,
} from './openai-completions.js';
import { BackendError } from './types.js';

const fakes: FakeOpenAiCompletions[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function startFake(options: FakeOpenAiCompletionsOptions = {}) {
  const fake = await startFakeOpenAiCompletions(options);
  fakes.push(fake);
  return fake;
}

function backendFor(fake: FakeOpenAiCompletions, options: Partial<OpenAiCompletionsBackendOptions> = {}) {
  return createOpenAiCompletionsBackend({ url: fake.url, ...options });
}

/** A full horde text payload (minus prompt and lengths, which TextJob carries apart). */
const HORDE_PARAMS = {
  n: 1,
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
  stop_sequence: ['\nYou:', '\nUser:', '###', '</s>', '\n\n\n', '<|im_end|>'],
  use_default_badwordsids: false,
  min_p: 0.05,
  dynatemp_range: 0.5,
  dynatemp_exponent: 1,
  smoothing_factor: 0.2,
  frmttriminc: true,
  singleline: false,
};

describe('openai-completions backend: model and limits', () => {
  it('uses the first served model and vLLM max_model_len', async () => {
    const fake = await startFake({ models: ['meta-llama/Llama-3-8B', 'other'], maxModelLength: 8192 });
    const backend = await backendFor(fake);
    expect(backend.kind).toBe('openai-completions');
    expect(await backend.models()).toEqual(['meta-llama/Llama-3-8B']);
    expect([backend.maxLength, backend.maxContextLength]).toEqual([512, 8192]);
  });

  it('defaults to 512 / 2048 when the server does not tell its context', async () => {
    const backend = await backendFor(await startFake());
    expect([backend.maxLength, backend.maxContextLength]).toEqual([512, 2048]);
  });

  it('takes model, horde name and limits from the options', async () => {
    const fake = await startFake({ models: ['a', 'b'], maxModelLength: 8192 });
    const backend = await backendFor(fake, {
      model: 'b',
      hordeModel: 'aphrodite/b',
      maxLength: 256,
      maxContextLength: 4096,
    });
    expect(await backend.models()).toEqual(['aphrodite/b']);
    expect([backend.maxLength, backend.maxContextLength]).toEqual([256, 4096]);
    await backend.generate(textJob(), jobContext().context);
    expect(fake.completionBodies[0]).toMatchObject({ model: 'b' });
  });

  it('works without /v1/models when the model is configured', async () => {
    const fake = await startFake({ models: ['llama'] });
    fake.failNext(1, { path: '/v1/models', status: 404 });
    const backend = await backendFor(fake, { model: 'llama' });
    expect(await backend.models()).toEqual(['llama']);
  });

  it('accepts a base URL that already ends in /v1', async () => {
    const fake = await startFake();
    const backend = await createOpenAiCompletionsBackend({ url: `${fake.url}/v1/` });
    await backend.generate(textJob(), jobContext().context);
    expect(fake.callsTo('/v1/completions', 'POST')).toHaveLength(1);
  });
});

describe('openai-completions backend: generate', () => {
  it('maps the Kobold fields the legacy worker maps, and nothing else', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake);
    const result = await backend.generate(
      textJob({ prompt: 'Hello there', maxLength: 120, params: { ...HORDE_PARAMS, sampler_seed: 1234 } }),
      jobContext().context,
    );
    expect(result).toEqual({ text: ' [reply to 11 chars]', seed: 1234 });
    expect(fake.completionBodies[0]).toEqual({
      model: 'fake-llm-7b',
      prompt: 'Hello there',
      max_tokens: 120,
      temperature: 0.7,
      top_p: 0.92,
      top_k: 100,
      repetition_penalty: 1.1,
      min_p: 0.05,
      stop: ['\nYou:', '\nUser:', '###', '</s>'],
      seed: 1234,
    });
  });

  it("clamps max_tokens to the backend's max length", async () => {
    const fake = await startFake();
    const backend = await backendFor(fake, { maxLength: 100 });
    await backend.generate(textJob({ maxLength: 400 }), jobContext().context);
    expect(fake.completionBodies[0]).toMatchObject({ max_tokens: 100 });
  });

  it("turns Kobold's top_k 0 (off) into -1 and leaves out empty stops and a missing seed", async () => {
    const fake = await startFake();
    const backend = await backendFor(fake);
    const result = await backend.generate(
      textJob({ params: { top_k: 0, stop_sequence: [] } }),
      jobContext().context,
    );
    expect(result).toEqual({ text: ' [reply to 16 chars]' });
    expect(fake.completionBodies[0]).toEqual({
      model: 'fake-llm-7b',
      prompt: 'Once upon a time',
      max_tokens: 80,
      top_k: -1,
    });
  });

  it('sends the API key as a Bearer token', async () => {
    const fake = await startFake({ apiKey: 'sk-local' });
    const backend = await backendFor(fake, { apiKey: 'sk-local' });
    await backend.generate(textJob(), jobContext().context);
    for (const call of fake.calls) expect(call.headers.authorization).toBe('Bearer sk-local');
  });

  it('fails with the server message on a wrong key', async () => {
    const fake = await startFake({ apiKey: 'sk-local' });
    const error = await backendFor(fake, { apiKey: 'sk-wrong' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({
      status: 401,
      message: 'OpenAI API answered 401: Incorrect API key provided.',
    });
  });

  it('fails with the server message for a model it does not serve', async () => {
    const fake = await startFake({ models: ['served'] });
    const backend = await backendFor(fake, { model: 'missing' });
    await expect(backend.generate(textJob(), jobContext().context)).rejects.toMatchObject({
      name: 'BackendError',
      status: 404,
      message: 'OpenAI API answered 404: The model `missing` does not exist',
    });
  });

  it('reads an error given as a plain string', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake);
    fake.failNext(1, { path: '/v1/completions', status: 503 });
    await expect(backend.generate(textJob(), jobContext().context)).rejects.toMatchObject({
      status: 503,
      message: 'OpenAI API answered 503: injected failure',
    });
  });

  it('stops waiting when the job is aborted', async () => {
    const fake = await startFake({ delayMs: 2000 });
    const backend = await backendFor(fake);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(backend.generate(textJob(), jobContext(controller.signal).context)).rejects.toThrow(
      'OpenAI API: generation aborted',
    );
  });

  it('fails with a BackendError when the server takes too long', async () => {
    const fake = await startFake();
    const backend = await backendFor(fake, { timeoutMs: 100 });
    fake.hang(true, { path: '/v1/completions' });
    await expect(backend.generate(textJob(), jobContext().context)).rejects.toThrow(
      'OpenAI API: no answer from /v1/completions within 0.1 s',
    );
  });
});
