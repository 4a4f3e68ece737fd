/**
 * Cross-cutting wire details (spec §0.1, §0.2, §4.1, §5.1): CORS and the `Horde-Node` header on every
 * answer, `X-Fields`, lenient bodies, the dev test-user bootstrap, rate limits, the OpenAPI document and
 * the Prometheus metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageRequest } from '../support/horde-http.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PARKED = 'Epic Diffusion';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});

afterAll(async () => {
  await ts?.close();
});

describe('headers on every answer', () => {
  it('sends Access-Control-Allow-Origin: * and Horde-Node on successes and errors alike', async () => {
    const answers = [
      await ts.call('GET', '/status/heartbeat'),
      await ts.call('GET', '/users/987654'),
      await ts.call('POST', '/generate/async', { apikey: ts.admin.apiKey, body: imageRequest(PARKED) }),
      await ts.call('POST', '/generate/async', { apikey: 'no-such-key-here', body: imageRequest(PARKED) }),
      await ts.call('GET', '/api/v2/no/such/route'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 404, 202, 401, 404]);
    for (const answer of answers) {
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('horde-node')).toMatch(/.+:.+:.+/);
      expect(answer.headers.get('content-type')).toContain('application/json');
    }
  });

  it('allows a preflight for apikey, client-agent and x-fields', async () => {
    const res = await fetch(`${ts.api}/generate/async`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://example.org',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'apikey, client-agent, x-fields',
      },
    });
    expect([200, 204]).toContain(res.status);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['apikey', 'client-agent', 'x-fields']) expect(allowed).toContain(header);
    expect((res.headers.get('access-control-allow-methods') ?? '').toUpperCase()).toContain('POST');
  });
});

describe('bodies', () => {
  it('X-Fields: id,kudos reduces the async answer to those keys', async () => {
    const res = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(PARKED),
      headers: { 'X-Fields': 'id,kudos' },
    });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(['id', 'kudos']);
    const check = await ts.call('GET', `/generate/check/${res.body.id}`, {
      headers: { 'X-Fields': 'finished,done' },
    });
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ finished: 0, done: false });
  });

  it('ignores unknown JSON fields', async () => {
    const res = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: { ...imageRequest(PARKED, { not_a_param: 3 }), not_a_field: 'x', another: { nested: true } },
    });
    expect(res.status).toBe(202);
    expect(typeof res.body.id).toBe('string');
  });

  it('answers broken JSON with 400, not 500', async () => {
    const res = await ts.call('POST', '/generate/async', { apikey: ts.admin.apiKey, body: '{"prompt": ' });
    expect(res.status).toBe(400);
    expect(typeof res.body.message).toBe('string');
  });

  it('answers a NUL byte in the prompt with 400 NulByteInPayload', async () => {
    const res = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: { ...imageRequest(PARKED), prompt: 'a cat\u0000' },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('NulByteInPayload');
  });
});

describe('POST /dev/test-user', () => {
  it('creates the test user (201), then rotates its key (200); the old key stops working', async () => {
    const created = await ts.call('POST', '/dev/test-user', { body: {} });
    expect(created.status).toBe(201);
    expect(created.body.api_key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(typeof created.body.user_id).toBe('string');
    expect(created.body.created).toBe(true);
    expect(created.body.moderator).toBe(true);
    expect(created.body.trusted).toBe(true);
    const again = await ts.call('POST', '/dev/test-user', { body: {} });
    expect(again.status).toBe(200);
    expect(again.body.user_id).toBe(created.body.user_id);
    expect(again.body.api_key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(again.body.api_key).not.toBe(created.body.api_key);
    const oldKey = await ts.call('POST', '/generate/async', {
      apikey: created.body.api_key,
      body: imageRequest(PARKED),
    });
    expect(oldKey.status).toBe(401);
    expect(oldKey.body.rc).toBe('InvalidAPIKey');
    const newKey = await ts.call('GET', '/find_user', { apikey: again.body.api_key });
    expect(newKey.status).toBe(200);
    expect(String(newKey.body.id)).toBe(again.body.user_id);
  });

  it('answers bad field types with 400', async () => {
    const res = await ts.call('POST', '/dev/test-user', { body: { kudos: 'lots' } });
    expect(res.status).toBe(400);
  });
});

describe('rate limits', () => {
  let limited: TestServer;

  beforeAll(async () => {
    limited = await startTestServer({ server: { rateLimits: {} } });
  });

  afterAll(async () => {
    await limited?.close();
  });

  it('answers the third async POST within a second with 429, Retry-After and a message', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<TestServer['call']>> | undefined;
    for (let i = 0; i < 3; i++) {
      last = await limited.call('POST', '/generate/async', {
        apikey: limited.admin.apiKey,
        body: imageRequest(PARKED),
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(0);
    expect(last!.headers.get('retry-after')).not.toBeNull();
    expect(last!.headers.get('x-ratelimit-limit')).not.toBeNull();
    expect(last!.headers.get('access-control-allow-origin')).toBe('*');
    expect(typeof last!.body.message).toBe('string');
    expect(last!.body.message.length).toBeGreaterThan(0);
  });

  it('never limits GET /status/heartbeat', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 120 }, async () => (await limited.call('GET', '/status/heartbeat')).status),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

describe('documents', () => {
  it('serves an OpenAPI document listing /generate/async', async () => {
    const res = await ts.call('GET', '/api/swagger.json');
    expect(res.status).toBe(200);
    expect(typeof res.body).toBe('object');
    const paths = Object.keys(res.body.paths ?? {});
    const servers: string[] = (res.body.servers ?? []).map((s: { url: string }) => s.url);
    const underApi = paths.includes('/api/v2/generate/async');
    const underServer = paths.includes('/generate/async') && servers.some((url) => url.endsWith('/api/v2'));
    expect(underApi || underServer).toBe(true);
  });

  it('serves HTML documentation at /api/', async () => {
    const res = await fetch(`${ts.origin}/api/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect((await res.text()).toLowerCase()).toContain('<html');
  });

  it('serves Prometheus metrics with hordekit_ names at /metrics', async () => {
    const res = await fetch(`${ts.origin}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(/^hordekit_\w+/m);
  });
});
