/**
 * Statistics and status endpoints over HTTP, ported from upstream's `test_statistics.py` (spec §5.2, §1.7),
 * after one finished image job and one text worker's pop so that the numbers have something to count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageRequest, koboldcppPopBody, regenPopBody } from '../support/horde-http.js';
import { startTestServer, type TestServer, TINY_WEBP_BASE64 } from '../support/server.js';

const IMAGE_MODEL = 'stable_diffusion';
const TEXT_MODEL = 'elinas/chronos-70b-v2';
const PERIODS = ['day', 'hour', 'minute', 'month', 'total'];

let ts: TestServer;

function expectCount(value: unknown) {
  expect(Number.isInteger(value)).toBe(true);
  expect(value as number).toBeGreaterThanOrEqual(0);
}

beforeAll(async () => {
  ts = await startTestServer();
  const gpu = await ts.user('stats_gpu', 0);
  const queued = await ts.call('POST', '/generate/async', {
    apikey: ts.admin.apiKey,
    body: imageRequest(IMAGE_MODEL),
  });
  expect(queued.status).toBe(202);
  const pop = await ts.call('POST', '/generate/pop', {
    apikey: gpu.apiKey,
    body: regenPopBody('stats-dreamer', [IMAGE_MODEL]),
  });
  expect(pop.body.id).toEqual(expect.any(String));
  const submit = await ts.call('POST', '/generate/submit', {
    apikey: gpu.apiKey,
    body: { id: pop.body.id, generation: TINY_WEBP_BASE64, state: 'ok', seed: 1 },
  });
  expect(submit.status).toBe(200);
  const textPop = await ts.call('POST', '/generate/text/pop', {
    apikey: gpu.apiKey,
    body: koboldcppPopBody('stats-scribe', [TEXT_MODEL]),
  });
  expect(textPop.status).toBe(200);
});

afterAll(async () => {
  await ts?.close();
});

describe('/stats', () => {
  it('/stats/img/totals has exactly the five periods of {images, ps}, counting the finished image', async () => {
    const res = await ts.call('GET', '/stats/img/totals');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(PERIODS);
    for (const period of PERIODS) {
      expect(Object.keys(res.body[period]).sort()).toEqual(['images', 'ps']);
      expectCount(res.body[period].images);
      expectCount(res.body[period].ps);
    }
    expect(res.body.total.images).toBeGreaterThanOrEqual(1);
    expect(res.body.total.ps).toBeGreaterThan(0);
  });

  it('/stats/img/models refuses a bad model_state with 400', async () => {
    const res = await ts.call('GET', '/stats/img/models?model_state=bad');
    expect(res.status).toBe(400);
  });

  it.each(['known', 'custom', 'all'])(
    '/stats/img/models?model_state=%s answers {day, month, total}',
    async (state) => {
      const res = await ts.call('GET', `/stats/img/models?model_state=${state}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['day', 'month', 'total']);
      for (const period of ['day', 'month', 'total']) expect(typeof res.body[period]).toBe('object');
      if (state !== 'custom') expect(res.body.total[IMAGE_MODEL]).toBeGreaterThanOrEqual(1);
      else expect(res.body.total[IMAGE_MODEL]).toBeUndefined();
    },
  );

  it('/stats/text/totals has the five periods of {requests, tokens}', async () => {
    const res = await ts.call('GET', '/stats/text/totals');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(PERIODS);
    for (const period of PERIODS) {
      expect(Object.keys(res.body[period]).sort()).toEqual(['requests', 'tokens']);
      expectCount(res.body[period].requests);
      expectCount(res.body[period].tokens);
    }
  });
});

describe('/status', () => {
  it('/status/performance has non-negative integer counts and sees the text worker', async () => {
    const res = await ts.call('GET', '/status/performance');
    expect(res.status).toBe(200);
    const keys = [
      'queued_requests',
      'queued_text_requests',
      'worker_count',
      'text_worker_count',
      'thread_count',
      'text_thread_count',
      'queued_forms',
      'interrogator_count',
      'interrogator_thread_count',
    ];
    for (const key of keys) {
      expect(res.body).toHaveProperty(key);
      expectCount(res.body[key]);
    }
    for (const key of [
      'queued_megapixelsteps',
      'past_minute_megapixelsteps',
      'queued_tokens',
      'past_minute_tokens',
    ]) {
      expect(typeof res.body[key]).toBe('number');
      expect(res.body[key]).toBeGreaterThanOrEqual(0);
    }
    expect(res.body.text_worker_count).toBeGreaterThanOrEqual(1);
    expect(res.body.worker_count).toBeGreaterThanOrEqual(1);
  });

  it('/status/modes answers booleans', async () => {
    const res = await ts.call('GET', '/status/modes');
    expect(res.status).toBe(200);
    expect(typeof res.body.maintenance_mode).toBe('boolean');
    expect(typeof res.body.invite_only_mode).toBe('boolean');
    expect(res.body.maintenance_mode).toBe(false);
  });

  it('/status/models is a list of image models by default', async () => {
    const res = await ts.call('GET', '/status/models');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    const sd = res.body.find((m: { name: string }) => m.name === IMAGE_MODEL);
    expect(sd).toBeDefined();
    expect(sd.type).toBe('image');
    expect(sd.count).toBeGreaterThanOrEqual(1);
    expect(res.body.every((m: { type: string }) => m.type === 'image')).toBe(true);
  });

  it('/status/models?type=text lists the popped text model', async () => {
    const res = await ts.call('GET', '/status/models?type=text');
    expect(res.status).toBe(200);
    const model = res.body.find((m: { name: string }) => m.name === TEXT_MODEL);
    expect(model).toBeDefined();
    expect(model.count).toBeGreaterThanOrEqual(1);
    expect(model.type).toBe('text');
  });

  it('/status/models/{name} is a one-element list', async () => {
    const res = await ts.call('GET', `/status/models/${encodeURIComponent(IMAGE_MODEL)}`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body).toHaveLength(1);
    expect(res.body[0].name).toBe(IMAGE_MODEL);
    for (const key of ['count', 'performance', 'queued', 'jobs', 'eta'])
      expect(typeof res.body[0][key]).toBe('number');
  });

  it('/status/heartbeat answers OK with a version', async () => {
    const res = await ts.call('GET', '/status/heartbeat');
    expect(res.status).toBe(200);
    expect(res.body.message).toBe('OK');
    expect(typeof res.body.version).toBe('string');
    expect(res.body.version.length).toBeGreaterThan(0);
  });

  it('/.well-known/serviceinfo names the API at /api/v2', async () => {
    const res = await ts.call('GET', `${ts.origin}/.well-known/serviceinfo`);
    expect(res.status).toBe(200);
    expect(res.body.api.aihorde.rel_url).toBe('/api/v2');
    expect(typeof res.body.api.aihorde.version).toBe('string');
  });
});
