/**
 * Text requests end to end over HTTP, ported from upstream's `test_text.py` (spec §5.2), popped by a worker
 * shaped like koboldcpp's embedded one (ecosystem §1.3), which submits without a seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koboldcppPopBody } from '../support/horde-http.js';
import { startTestServer, type TestAccount, type TestServer } from '../support/server.js';

const MODEL = 'elinas/chronos-70b-v2';
const WORKER = 'kobold-scribe';

let ts: TestServer;
let owner: TestAccount;

beforeAll(async () => {
  ts = await startTestServer();
  owner = await ts.user('scribe_owner', 0);
});

afterAll(async () => {
  await ts?.close();
});

/** Queues a text request, pops it as koboldcpp and submits it with `submit`; returns the request's status. */
async function roundTrip(submit: Record<string, unknown>) {
  const queued = await ts.call('POST', '/generate/text/async', {
    apikey: ts.admin.apiKey,
    body: {
      prompt: 'Once upon a time, in a horde far away,',
      params: { max_length: 512, max_context_length: 2048, temperature: 0.7 },
      models: [MODEL],
      validated_backends: false,
    },
  });
  expect(queued.status).toBe(202);
  expect(typeof queued.body.id).toBe('string');
  const pop = await ts.call('POST', '/generate/text/pop', {
    apikey: owner.apiKey,
    body: koboldcppPopBody(WORKER, [MODEL]),
    headers: { 'Client-Agent': 'KoboldCppEmbedWorker:2' },
  });
  expect(pop.status).toBe(200);
  expect(pop.body.id).toEqual(expect.any(String));
  expect(pop.body.ids).toEqual([pop.body.id]);
  expect(pop.body.model).toBe(MODEL);
  expect(pop.body.payload.prompt).toBe('Once upon a time, in a horde far away,');
  expect(pop.body.payload.max_length).toBe(512);
  expect(typeof pop.body.ttl).toBe('number');
  const submitted = await ts.call('POST', '/generate/text/submit', {
    apikey: owner.apiKey,
    body: { id: pop.body.id, ...submit },
  });
  expect(submitted.status).toBe(200);
  expect(typeof submitted.body.reward).toBe('number');
  const status = await ts.call('GET', `/generate/text/status/${queued.body.id}`);
  expect(status.status).toBe(200);
  expect(status.body.done).toBe(true);
  expect(status.body.generations).toHaveLength(1);
  return { jobId: pop.body.id as string, reward: submitted.body.reward as number, status: status.body };
}

describe('text round trip (test_text.py)', () => {
  it('an ok submit without a seed yields an ok generation with text, seed, worker and model', async () => {
    const { jobId, reward, status } = await roundTrip({
      generation: 'there lived a small GPU.',
      state: 'ok',
    });
    expect(reward).toBeGreaterThan(0);
    const gen = status.generations[0];
    expect(gen.id).toBe(jobId);
    expect(gen.text).toBe('there lived a small GPU.');
    expect(typeof gen.seed).toBe('number');
    expect(typeof gen.worker_id).toBe('string');
    expect(gen.worker_name).toBe(WORKER);
    expect(gen.model).toBe(MODEL);
    expect(gen.state).toBe('ok');
    expect(status.kudos).toBeGreaterThan(0);
  });

  it('a censored submit yields a censored generation', async () => {
    const { status } = await roundTrip({ generation: 'redacted', state: 'censored' });
    expect(status.generations[0].state).toBe('censored');
  });

  it('a csam submit yields a csam generation', async () => {
    const { status } = await roundTrip({ generation: 'redacted', state: 'csam' });
    expect(status.generations[0].state).toBe('csam');
  });

  it('an ok submit with csam censorship metadata yields a csam generation', async () => {
    const { status } = await roundTrip({
      generation: 'redacted',
      state: 'ok',
      gen_metadata: [{ type: 'censorship', value: 'csam' }],
    });
    expect(status.generations[0].state).toBe('csam');
  });

  it('lists the scribe among the text workers with its lengths', async () => {
    const res = await ts.call('GET', '/workers?type=text');
    expect(res.status).toBe(200);
    const scribe = res.body.find((w: { name: string }) => w.name === WORKER);
    expect(scribe).toBeDefined();
    expect(scribe.type).toBe('text');
    expect(scribe.max_length).toBe(512);
    expect(scribe.max_context_length).toBe(4096);
    expect(scribe.requests_fulfilled).toBeGreaterThanOrEqual(1);
  });

  it('skips a request asking for more tokens than the worker offers', async () => {
    const queued = await ts.call('POST', '/generate/text/async', {
      apikey: ts.admin.apiKey,
      body: {
        prompt: 'A long story:',
        params: { max_length: 1024, max_context_length: 2048 },
        models: [MODEL],
      },
    });
    expect(queued.status).toBe(202);
    const pop = await ts.call('POST', '/generate/text/pop', {
      apikey: owner.apiKey,
      body: koboldcppPopBody(WORKER, [MODEL]),
    });
    expect(pop.status).toBe(200);
    expect(pop.body.id).toBeNull();
    expect(pop.body.skipped.max_length).toBeGreaterThanOrEqual(1);
    await ts.call('DELETE', `/generate/text/status/${queued.body.id}`);
  });
});
