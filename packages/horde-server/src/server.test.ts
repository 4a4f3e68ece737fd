/**
 * Server behaviour that needs time or a misbehaving peer: the image sweep (driven by the engine's fake
 * clock), webhook retries against a loopback receiver, and rate-limit windows. Requests go through
 * `app.request()`; the receiver is real HTTP.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestHorde, REGEN_AGENT, type TestHorde } from '@hordekit/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteBlobStore } from './blobs/sqlite.js';
import type { BlobStore } from './blobs/types.js';
import { resultKey } from './images.js';
import { createServer, type HordeServer, type HordeServerOptions } from './server.js';

const WEBP = Buffer.from('UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAQAcJaQAA3AA/v3AgAA=', 'base64');

interface Setup {
  t: TestHorde;
  blobs: BlobStore;
  server: HordeServer;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of many routes, checked field by field
  call(method: string, path: string, apikey?: string, body?: unknown): Promise<{ status: number; body: any }>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Partial<HordeServerOptions> = {}): Promise<Setup> {
  const t = await createTestHorde();
  const blobs = await createSqliteBlobStore({ path: ':memory:', now: () => t.clock.now() });
  const server = createServer({ horde: t.horde, blobs, rateLimits: false, ...options });
  server.start();
  cleanups.push(async () => {
    await server.close();
    await t.horde.close();
    await blobs.close();
  });
  async function call(method: string, path: string, apikey?: string, body?: unknown) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (apikey) headers.apikey = apikey;
    const response = await server.app.request(`http://horde.test${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
  return { t, blobs, server, call };
}

/** Queues one image request, pops it as reGen, uploads and submits: returns the job id. */
async function deliverOne(
  s: Setup,
  extra: Record<string, unknown> = {},
): Promise<{ requestId: string; jobId: string }> {
  const requester = await s.t.user('requester', 100);
  const owner = await s.t.user('owner', 0, { trusted: true });
  const accepted = await s.call('POST', '/api/v2/generate/async', requester.creds.apiKey, {
    prompt: 'a lighthouse',
    models: ['stable_diffusion'],
    nsfw: false,
    params: { width: 512, height: 512, steps: 10 },
    ...extra,
  });
  expect(accepted.status).toBe(202);
  const pop = await s.call('POST', '/api/v2/generate/pop', owner.creds.apiKey, {
    name: 'sweep test worker',
    models: ['stable_diffusion'],
    bridge_agent: REGEN_AGENT,
  });
  expect(pop.body.id).not.toBeNull();
  const upload = await s.server.app.request(
    pop.body.r2_upload.replace(/^http:\/\/[^/]+/, 'http://horde.test'),
    {
      method: 'PUT',
      body: WEBP,
    },
  );
  expect(upload.status).toBe(200);
  const submit = await s.call('POST', '/api/v2/generate/submit', owner.creds.apiKey, {
    id: pop.body.id,
    generation: 'R2',
    seed: 1,
  });
  expect(submit.status).toBe(200);
  return { requestId: accepted.body.id, jobId: pop.body.id };
}

describe('image sweep', () => {
  it('keeps images while their request lives and for 30 minutes at least, then deletes them', async () => {
    const s = await setup();
    const { requestId, jobId } = await deliverOne(s);
    expect(await s.blobs.has(resultKey(jobId))).toBe(true);

    s.t.clock.advance(25 * 60_000); // the request expired (20 minutes idle), the image is 25 minutes old
    await s.t.horde.sweep();
    expect(await s.server.sweepImages()).toBe(0);
    expect(await s.blobs.has(resultKey(jobId))).toBe(true);

    s.t.clock.advance(10 * 60_000);
    await s.t.horde.sweep();
    expect((await s.call('GET', `/api/v2/generate/check/${requestId}`)).status).toBe(404);
    expect(await s.server.sweepImages()).toBe(1);
    expect(await s.blobs.has(resultKey(jobId))).toBe(false);
  });

  it('keeps an old image whose request is still running', async () => {
    const s = await setup();
    const requester = await s.t.user('long requester', 1000);
    const accepted = await s.call('POST', '/api/v2/generate/async', requester.creds.apiKey, {
      prompt: 'two images, one worker',
      models: ['stable_diffusion'],
      nsfw: false,
      params: { width: 512, height: 512, steps: 10, n: 2 },
    });
    expect(accepted.status).toBe(202);
    const owner = await s.t.user('slow owner', 0, { trusted: true });
    const pop = await s.call('POST', '/api/v2/generate/pop', owner.creds.apiKey, {
      name: 'one at a time',
      models: ['stable_diffusion'],
      bridge_agent: REGEN_AGENT,
      amount: 1,
    });
    expect(pop.body.ids).toHaveLength(1);
    await s.blobs.put(resultKey(pop.body.id), WEBP);
    await s.call('POST', '/api/v2/generate/submit', owner.creds.apiKey, {
      id: pop.body.id,
      generation: 'R2',
      seed: 1,
    });
    // 25 minutes later the second job is popped: that activity keeps the request alive until minute 45.
    s.t.clock.advance(25 * 60_000);
    await s.t.horde.sweep();
    const second = await s.call('POST', '/api/v2/generate/pop', owner.creds.apiKey, {
      name: 'one at a time',
      models: ['stable_diffusion'],
      bridge_agent: REGEN_AGENT,
      amount: 1,
    });
    expect(second.body.id).not.toBeNull();
    s.t.clock.advance(10 * 60_000); // the first image is 35 minutes old
    await s.t.horde.sweep();
    expect((await s.call('GET', `/api/v2/generate/check/${accepted.body.id}`)).status).toBe(200);
    expect(await s.server.sweepImages()).toBe(0);
    expect(await s.blobs.has(resultKey(pop.body.id))).toBe(true);
  });
});

describe('webhooks', () => {
  async function receiver(failFirst: number) {
    // biome-ignore lint/suspicious/noExplicitAny: response bodies of many routes, checked field by field
    const bodies: any[] = [];
    let calls = 0;
    const http: Server = createHttpServer((request: IncomingMessage, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        calls++;
        if (calls <= failFirst) {
          response.writeHead(503).end();
          return;
        }
        bodies.push(JSON.parse(text));
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(() => resolve())));
    const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    return {
      bodies,
      calls: () => calls,
      fetch: (url: string, init: RequestInit) => fetch(url.replace('https://hook.test', origin), init),
    };
  }

  async function until(condition: () => boolean, ms = 5000) {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('retries a failing receiver and delivers the generation once it answers', async () => {
    const hook = await receiver(2);
    const s = await setup({ webhooks: { fetch: hook.fetch } });
    const { requestId, jobId } = await deliverOne(s, { webhook: 'https://hook.test/done' });
    await until(() => hook.bodies.length === 1);
    expect(hook.calls()).toBe(3);
    expect(hook.bodies[0]).toMatchObject({ request: requestId, id: jobId, seed: '1', state: 'ok' });
    expect(hook.bodies[0].img).toMatch(/\/api\/v2\/images\//);
    expect(hook.bodies[0].kudos).toBeGreaterThan(0);
  });

  it('gives up after three attempts', async () => {
    const hook = await receiver(100);
    const s = await setup({ webhooks: { fetch: hook.fetch } });
    await deliverOne(s, { webhook: 'https://hook.test/never' });
    await until(() => hook.calls() === 3);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a 4th attempt would have come by now
    expect(hook.calls()).toBe(3);
    expect(hook.bodies).toEqual([]);
  });
});

describe('rate limits', () => {
  it('answers over-limit calls with 429, Retry-After and the X-RateLimit headers', async () => {
    const s = await setup({ rateLimits: { policies: { users: [{ points: 2, seconds: 60, key: 'ip' }] } } });
    const first = await s.server.app.request('http://horde.test/api/v2/users');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    await s.server.app.request('http://horde.test/api/v2/users');
    const third = await s.server.app.request('http://horde.test/api/v2/users');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await third.json()).toEqual({
      message: 'Rate limit exceeded: 2 per 1 minute',
      rc: 'TooManyRequests',
    });
    // Another policy's window is separate; the heartbeat has none.
    expect((await s.server.app.request('http://horde.test/api/v2/status/heartbeat')).status).toBe(200);
  });

  it('gives the anonymous key its larger allowance per key', async () => {
    const s = await setup({
      rateLimits: {
        policies: { generate: [{ points: 1, seconds: 60, key: 'key+path', anonymousPoints: 3 }] },
      },
    });
    const post = (apikey: string) =>
      s.call('POST', '/api/v2/generate/async', apikey, {
        prompt: 'x',
        dry_run: true,
        models: ['stable_diffusion'],
      });
    const user = await s.t.user('limited', 10);
    expect((await post(user.creds.apiKey)).status).toBe(200);
    expect((await post(user.creds.apiKey)).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await post('0000000000')).status).toBe(200);
    expect((await post('0000000000')).status).toBe(429);
  });
});

describe('metrics', () => {
  it('counts what happened: queue depth by model, workers online, pops, settlements, kudos, latencies', async () => {
    const s = await setup();
    await deliverOne(s);
    const waiting = await s.t.user('waiting requester', 100);
    for (let i = 0; i < 2; i++) {
      await s.call('POST', '/api/v2/generate/async', waiting.creds.apiKey, {
        prompt: 'still waiting',
        models: ['stable_diffusion'],
        nsfw: false,
        params: { width: 512, height: 512, steps: 10 },
      });
    }
    const text = await (await s.server.app.request('http://horde.test/metrics')).text();
    const value = (pattern: RegExp) => Number(text.match(pattern)?.[1] ?? Number.NaN);
    expect(value(/^hordekit_queue_jobs\{kind="image",model="stable_diffusion"\} (\d+)/m)).toBe(2);
    expect(value(/^hordekit_workers_online\{kind="image"\} (\d+)/m)).toBe(1);
    expect(value(/^hordekit_pops_total\{kind="image",result="job"\} (\d+)/m)).toBe(1);
    expect(value(/^hordekit_submits_total\{outcome="completed"\} (\d+)/m)).toBe(1);
    expect(value(/^hordekit_kudos_moved_total\{kind="reward"\} ([\d.]+)/m)).toBeGreaterThan(0);
    expect(
      value(
        /^hordekit_http_request_duration_seconds_count\{method="POST",route="\/api\/v2\/generate\/async",status="202"\} (\d+)/m,
      ),
    ).toBe(3);
  });
});

describe('results submitted to the engine directly', () => {
  it('are served as URLs and as base64 like uploaded ones', async () => {
    const s = await setup();
    const requester = await s.t.user('embedded requester', 100);
    const owner = await s.t.user('embedded owner', 0, { trusted: true });
    const ids: Record<string, string> = {};
    for (const r2 of [true, false]) {
      const { id } = await s.t.horde.generateImage(requester.creds, {
        prompt: `in-process worker, r2 ${r2}`,
        models: ['stable_diffusion'],
        nsfw: false,
        r2,
      });
      ids[String(r2)] = id!;
      const { job } = await s.t.horde.popImage(owner.creds, {
        name: 'in-process worker',
        models: ['stable_diffusion'],
      });
      await s.t.horde.submitImage(owner.creds, { id: job!.id, generation: WEBP.toString('base64'), seed: 3 });
    }
    const viaUrl = await s.call('GET', `/api/v2/generate/status/${ids.true}`);
    const url = viaUrl.body.generations[0].img as string;
    expect(url).toMatch(/^http:\/\/horde\.test\/api\/v2\/images\//);
    const image = await s.server.app.request(url);
    expect(Buffer.from(await image.arrayBuffer()).equals(WEBP)).toBe(true);
    const inline = await s.call('GET', `/api/v2/generate/status/${ids.false}`);
    expect(inline.body.generations[0].img).toBe(WEBP.toString('base64'));
  });
});
