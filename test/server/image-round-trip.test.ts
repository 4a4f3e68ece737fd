/**
 * Image requests end to end over HTTP, ported from upstream's `test_image.py` and
 * `test_kudos_request_activation.py` (spec §5.2), with the shapes reGen and the legacy worker really send
 * (ecosystem §1.1, §1.2): signed upload URLs, base64 submits, downloads, webhooks and the SSE stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  absoluteUrl,
  download,
  type ImagePopAnswer,
  imageRequest,
  LEGACY_AGENT,
  legacyPopBody,
  openSse,
  regenPopBody,
  sortOrder,
  startReceiver,
  TINY_WEBP,
  upload,
  waitUntil,
} from '../support/horde-http.js';
import { startTestServer, type TestAccount, type TestServer, TINY_WEBP_BASE64 } from '../support/server.js';

const SD = 'stable_diffusion';
const SDXL = 'SDXL 1.0';
const FLUX = 'Flux.1-Schnell fp8 (Compact)';
/** Requests nobody in this file pops use this model, so they never reach another test's worker. */
const PARKED = 'Epic Diffusion';

let ts: TestServer;
let gpu: TestAccount;

beforeAll(async () => {
  ts = await startTestServer();
  gpu = await ts.user('gpu_owner', 0);
});

afterAll(async () => {
  await ts?.close();
});

async function popRegen(
  name: string,
  models: string[],
  overrides: Record<string, unknown> = {},
  owner = gpu,
) {
  return ts.call('POST', '/generate/pop', {
    apikey: owner.apiKey,
    body: regenPopBody(name, models, overrides),
    // horde_sdk 0.17 spells the header with an underscore (ecosystem §1.1).
    headers: {
      client_agent: 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen',
    },
  });
}

async function submitR2(id: string, seed = 0) {
  return ts.call('POST', '/generate/submit', {
    apikey: gpu.apiKey,
    body: { id, generation: 'R2', state: 'ok', seed },
  });
}

async function findUserKudos(apiKey: string): Promise<number> {
  const res = await ts.call('GET', '/find_user', { apikey: apiKey });
  expect(res.status).toBe(200);
  return res.body.kudos;
}

describe('the reGen round trip (test_image.py)', () => {
  const models = [SD, SDXL];
  let requestId: string;
  let pop: ImagePopAnswer;

  it('accepts a 1024×1024, 8-step, two-model request with a LoRA: 202 {id, kudos}', async () => {
    const res = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: {
        prompt: 'a horde of cute stable robots in a sprawling server room ### cartoon',
        params: {
          width: 1024,
          height: 1024,
          steps: 8,
          cfg_scale: 1.5,
          sampler_name: 'k_euler_a',
          n: 1,
          loras: [{ name: '247778', is_version: true }],
        },
        nsfw: false,
        censor_nsfw: false,
        r2: true,
        models,
      },
    });
    expect(res.status).toBe(202);
    expect(typeof res.body.id).toBe('string');
    expect(typeof res.body.kudos).toBe('number');
    expect(res.body.kudos).toBeGreaterThan(0);
    requestId = res.body.id;
  });

  it('hands the job to a reGen-shaped pop sent with a `client_agent` header', async () => {
    const res = await popRegen('regen-dreamer', models);
    expect(res.status).toBe(200);
    pop = res.body;
    expect(pop.id).toEqual(expect.any(String));
    expect(Array.isArray(pop.ids)).toBe(true);
    expect(pop.ids).toHaveLength(1);
    expect(pop.ids[0]).toBe(pop.id);
    expect(typeof pop.ttl).toBe('number');
    expect(pop.ttl).toBeGreaterThan(0);
    expect(models).toContain(pop.model);
    expect(pop.payload.ddim_steps).toBe(8);
    expect(pop.payload.n_iter).toBe(1);
    expect(typeof pop.payload.seed).toBe('string');
    expect(pop.payload.width).toBe(1024);
    expect(pop.payload.height).toBe(1024);
    expect(pop.payload.loras).toEqual([expect.objectContaining({ name: '247778', is_version: true })]);
    expect(typeof pop.r2_upload).toBe('string');
    expect(pop.r2_uploads).toHaveLength(pop.ids.length);
    expect(pop.r2_uploads[0]).toBe(pop.r2_upload);
  });

  it('takes the raw WebP bytes at the upload URL with no headers: exactly 200', async () => {
    expect(await upload(absoluteUrl(ts, pop.r2_uploads[0]!), TINY_WEBP)).toBe(200);
  });

  it('tolerates the upload being retried', async () => {
    expect(await upload(absoluteUrl(ts, pop.r2_uploads[0]!), TINY_WEBP)).toBe(200);
  });

  it('rewards the R2 submit', async () => {
    const res = await submitR2(pop.id!, 0);
    expect(res.status).toBe(200);
    expect(res.body.reward).toBeGreaterThan(0);
  });

  it('reports the finished generation in the status', async () => {
    const res = await ts.call('GET', `/generate/status/${requestId}`);
    expect(res.status).toBe(200);
    expect(res.body.done).toBe(true);
    expect(res.body.finished).toBe(1);
    expect(res.body.kudos).toBeGreaterThan(1);
    expect(res.body.generations).toHaveLength(1);
    const gen = res.body.generations[0];
    expect(gen.gen_metadata).toEqual([]);
    expect(gen.seed).toBe('0');
    expect(gen.worker_name).toBe('regen-dreamer');
    expect(typeof gen.worker_id).toBe('string');
    expect(models).toContain(gen.model);
    expect(gen.state).toBe('ok');
    expect(gen.id).toBe(pop.id);
    expect(gen.censored).toBe(false);
  });

  it('lets the requester download the image from its URL: the same bytes', async () => {
    const res = await ts.call('GET', `/generate/status/${requestId}`);
    const img: string = res.body.generations[0].img;
    expect(img).toMatch(/^(https?:\/\/|\/)/);
    const got = await download(absoluteUrl(ts, img));
    expect(got.status).toBe(200);
    expect(got.bytes.equals(TINY_WEBP)).toBe(true);
  });

  it('refuses an upload URL whose signature was tampered with', async () => {
    const url = new URL(absoluteUrl(ts, pop.r2_uploads[0]!));
    const sig = url.searchParams.get('sig');
    expect(sig).not.toBeNull();
    url.searchParams.set('sig', `${sig!.slice(0, -2)}xx`);
    const status = await upload(url.toString());
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });
});

describe('batches', () => {
  it('gives one upload URL per id, sorting in the same order as the ids', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(SD, { n: 4 }),
    });
    expect(queued.status).toBe(202);
    const res = await popRegen('regen-batcher', [SD]);
    expect(res.status).toBe(200);
    const { ids, r2_uploads: uploads } = res.body;
    expect(ids.length).toBeGreaterThan(1);
    expect(res.body.payload.n_iter).toBe(ids.length);
    expect(uploads).toHaveLength(ids.length);
    expect(new Set(uploads).size).toBe(ids.length);
    expect(sortOrder(uploads)).toEqual(sortOrder(ids));
    for (let i = 0; i < ids.length; i++) {
      expect(await upload(absoluteUrl(ts, uploads[i]))).toBe(200);
      const submit = await submitR2(ids[i], 7);
      expect(submit.status).toBe(200);
    }
    const status = await ts.call('GET', `/generate/status/${queued.body.id}`);
    expect(status.body.generations).toHaveLength(ids.length);
    // One batch shares one seed.
    expect(new Set(status.body.generations.map((g: { seed: string }) => g.seed))).toEqual(new Set(['7']));
    await ts.call('DELETE', `/generate/status/${queued.body.id}`);
  });
});

describe('r2: false', () => {
  it('returns the image as base64 of the uploaded bytes', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(SD, {}, { r2: false }),
    });
    expect(queued.status).toBe(202);
    const pop = await popRegen('regen-dreamer', [SD]);
    expect(pop.body.id).toEqual(expect.any(String));
    expect(await upload(absoluteUrl(ts, pop.body.r2_uploads[0]))).toBe(200);
    expect((await submitR2(pop.body.id)).status).toBe(200);
    const status = await ts.call('GET', `/generate/status/${queued.body.id}`);
    expect(status.body.generations).toHaveLength(1);
    const img: string = status.body.generations[0].img;
    expect(img.startsWith('http')).toBe(false);
    expect(Buffer.from(img, 'base64').equals(TINY_WEBP)).toBe(true);
  });
});

describe('the legacy worker (bridge version 24)', () => {
  it('pops with legacy fields, submits base64, and the requester downloads the same bytes', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(SD),
    });
    expect(queued.status).toBe(202);
    const pop = await ts.call('POST', '/generate/pop', {
      apikey: gpu.apiKey,
      body: legacyPopBody('legacy-dreamer', [SD]),
    });
    expect(pop.status).toBe(200);
    expect(pop.body.id).toEqual(expect.any(String));
    const submit = await ts.call('POST', '/generate/submit', {
      apikey: gpu.apiKey,
      body: { id: pop.body.id, generation: TINY_WEBP_BASE64, seed: 42 },
    });
    expect(submit.status).toBe(200);
    expect(submit.body.reward).toBeGreaterThan(0);
    const status = await ts.call('GET', `/generate/status/${queued.body.id}`);
    expect(status.body.done).toBe(true);
    const gen = status.body.generations[0];
    expect(gen.seed).toBe('42');
    expect(gen.worker_name).toBe('legacy-dreamer');
    const got = await download(absoluteUrl(ts, gen.img));
    expect(got.status).toBe(200);
    expect(got.bytes.equals(TINY_WEBP)).toBe(true);
    const worker = await ts.call('GET', '/workers/name/legacy-dreamer');
    expect(worker.body.bridge_agent).toBe(LEGACY_AGENT);
  });
});

describe('kudos at activation (test_kudos_request_activation.py)', () => {
  it('charges a registered user exactly 3 kudos when the request is accepted', async () => {
    // 100, not 10: the pseudonymous floor is 14 (spec §2.5), and a charge never takes a balance below it.
    const requester = await ts.user('activation_user', 100);
    const before = await findUserKudos(requester.apiKey);
    const res = await ts.call('POST', '/generate/async', {
      apikey: requester.apiKey,
      body: imageRequest(PARKED),
    });
    expect(res.status).toBe(202);
    const after = await findUserKudos(requester.apiKey);
    expect(before - after).toBe(3);
    await ts.call('DELETE', `/generate/status/${res.body.id}`);
  });

  it('accepts an anonymous request', async () => {
    const res = await ts.call('POST', '/generate/async', {
      apikey: '0000000000',
      body: imageRequest(PARKED),
    });
    expect(res.status).toBe(202);
    expect(typeof res.body.id).toBe('string');
    await ts.call('DELETE', `/generate/status/${res.body.id}`);
  });

  it('refuses a 50-step 1024×1024 request from a 0-kudos user with 403 KudosUpfront and charges nothing', async () => {
    const poor = await ts.user('poor_user', 0);
    const before = await ts.horde.store.ledgerTotals();
    const res = await ts.call('POST', '/generate/async', {
      apikey: poor.apiKey,
      body: imageRequest(PARKED, { width: 1024, height: 1024, steps: 50 }),
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('KudosUpfront');
    expect(await findUserKudos(poor.apiKey)).toBe(0);
    const after = await ts.horde.store.ledgerTotals();
    expect(after.burnt).toBe(before.burnt);
  });

  it('answers a dry run with 200 {kudos} and neither queues nor charges', async () => {
    const requester = await ts.user('dry_runner', 100);
    const res = await ts.call('POST', '/generate/async', {
      apikey: requester.apiKey,
      body: imageRequest(PARKED, {}, { dry_run: true }),
    });
    expect(res.status).toBe(200);
    expect(res.body.kudos).toBeGreaterThan(0);
    expect(res.body.id ?? null).toBeNull();
    expect(await findUserKudos(requester.apiKey)).toBe(100);
    const perf = await ts.call('GET', '/status/performance');
    expect(perf.body.queued_requests).toBe(0);
  });
});

describe('Flux and limit_max_steps', () => {
  it('skips a Flux request with more steps than the worker allows, counting step_count', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(FLUX, { width: 1024, height: 1024, steps: 8, cfg_scale: 1 }),
    });
    expect(queued.status).toBe(202);
    // Its own owner: an untrusted account may run only 3 workers (spec §2.9).
    const fluxOwner = await ts.user('flux_owner', 0);
    const limited = await popRegen('regen-flux-limited', [FLUX], { limit_max_steps: true }, fluxOwner);
    expect(limited.status).toBe(200);
    expect(limited.body.id).toBeNull();
    expect(limited.body.skipped.step_count).toBeGreaterThanOrEqual(1);
    // The same request goes to a worker without the limit: the skip was about steps, nothing else.
    const unlimited = await popRegen('regen-flux', [FLUX], {}, fluxOwner);
    expect(unlimited.body.id).toEqual(expect.any(String));
    expect(unlimited.body.model).toBe(FLUX);
    await ts.call('DELETE', `/generate/status/${queued.body.id}`);
  });
});

describe('cancel and check', () => {
  it('cancels with DELETE /generate/status/{id}, returning the status; later pops get nothing', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(SD),
    });
    expect(queued.status).toBe(202);
    const res = await ts.call('DELETE', `/generate/status/${queued.body.id}`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.generations)).toBe(true);
    expect(res.body.finished).toBe(0);
    const pop = await popRegen('regen-dreamer', [SD]);
    expect(pop.status).toBe(200);
    expect(pop.body.id).toBeNull();
  });

  it('answers check of an unknown id with 404 RequestNotFound', async () => {
    const res = await ts.call('GET', '/generate/check/not-a-request-id');
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('RequestNotFound');
  });

  it('answers check of a live request with the counters', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(PARKED),
    });
    const res = await ts.call('GET', `/generate/check/${queued.body.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ finished: 0, processing: 0, waiting: 1, done: false, faulted: false });
    expect(typeof res.body.queue_position).toBe('number');
    expect(typeof res.body.is_possible).toBe('boolean');
    await ts.call('DELETE', `/generate/status/${queued.body.id}`);
  });
});

describe('webhooks', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let hooked: TestServer;

  beforeAll(async () => {
    receiver = await startReceiver();
    hooked = await startTestServer({
      server: {
        webhooks: {
          fetch: (url: string, init?: RequestInit) =>
            fetch(url.replace('https://hook.test', receiver.origin), init),
        },
      },
    });
  });

  afterAll(async () => {
    await hooked?.close();
    await receiver?.close();
  });

  it('POSTs the generation to the webhook with request id, job id and kudos', async () => {
    const owner = await hooked.user('hook_gpu', 0);
    const queued = await hooked.call('POST', '/generate/async', {
      apikey: hooked.admin.apiKey,
      body: imageRequest(SD, {}, { webhook: 'https://hook.test/cb' }),
    });
    expect(queued.status).toBe(202);
    const pop = await hooked.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody('hooked-dreamer', [SD]),
    });
    expect(pop.body.id).toEqual(expect.any(String));
    const submit = await hooked.call('POST', '/generate/submit', {
      apikey: owner.apiKey,
      body: { id: pop.body.id, generation: TINY_WEBP_BASE64, state: 'ok', seed: 3 },
    });
    expect(submit.status).toBe(200);
    const hook = await waitUntil(async () => receiver.received[0]);
    expect(hook.method).toBe('POST');
    expect(hook.url).toBe('/cb');
    const payload = JSON.parse(hook.body);
    expect(payload.request).toBe(queued.body.id);
    expect(payload.id).toBe(pop.body.id);
    expect(typeof payload.kudos).toBe('number');
    expect(payload.worker_name).toBe('hooked-dreamer');
    expect(payload.seed).toBe('3');
    expect(typeof payload.img).toBe('string');
  });
});

describe('server-sent events', () => {
  it('streams queued, processing, generation and done, then ends', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(SD),
    });
    expect(queued.status).toBe(202);
    const stream = await openSse(`${ts.api}/generate/stream/${queued.body.id}`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      const first = await stream.next();
      expect(first?.event).toBe('state');
      expect(JSON.parse(first!.data)).toMatchObject({ id: queued.body.id, waiting: 1, done: false });
      const waiting = await stream.next();
      expect(waiting?.event).toBe('position');
      const where = JSON.parse(waiting!.data);
      expect(where.position).toBeGreaterThanOrEqual(1);
      expect(where.waitTime).toEqual(expect.any(Number));
      const pop = await popRegen('regen-dreamer', [SD]);
      expect(pop.body.id).toEqual(expect.any(String));
      const seen: string[] = [first!.event, waiting!.event];
      const nextOf = async (type: string) => {
        for (;;) {
          const event = await stream.next();
          if (!event) throw new Error(`stream ended before "${type}" (saw ${seen.join(', ')})`);
          seen.push(event.event);
          if (event.event === type) return event;
        }
      };
      const processing = await nextOf('processing');
      expect(JSON.parse(processing.data)).toBeTruthy();
      expect(await upload(absoluteUrl(ts, pop.body.r2_uploads[0]))).toBe(200);
      expect((await submitR2(pop.body.id, 5)).status).toBe(200);
      const generation = await nextOf('generation');
      expect(generation.data).toContain(pop.body.id);
      await nextOf('done');
      await stream.ended;
      expect(await stream.next(100)).toBeUndefined();
    } finally {
      stream.close();
    }
  });
});
