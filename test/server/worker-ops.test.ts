/**
 * Worker operations over HTTP, ported from upstream's `tests/integration/test_worker_ops.py` (spec §5.2):
 * who may pop, change, pause and delete a worker, and how submit answers unknown, foreign and repeated jobs
 * — with the message phrases reGen matches on (ecosystem §1.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageRequest, regenPopBody } from '../support/horde-http.js';
import { startTestServer, type TestAccount, type TestServer, TINY_WEBP_BASE64 } from '../support/server.js';

const MODEL = 'stable_diffusion';
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

let ts: TestServer;
let owner: TestAccount;
let stranger: TestAccount;
let workerId: string;
const workerName = 'worker-ops-main';

beforeAll(async () => {
  ts = await startTestServer();
  owner = await ts.user('worker_owner', 100);
  stranger = await ts.user('stranger', 100);
});

afterAll(async () => {
  await ts?.close();
});

describe('popping', () => {
  it('refuses the anonymous key with 403 AnonForbiddenWorker', async () => {
    const res = await ts.call('POST', '/generate/pop', {
      apikey: '0000000000',
      body: regenPopBody('anon-worker', [MODEL]),
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('AnonForbiddenWorker');
  });

  it('refuses an unknown key with 401 InvalidAPIKey', async () => {
    const res = await ts.call('POST', '/generate/pop', {
      apikey: 'not-a-real-key-at-all!',
      body: regenPopBody('bad-key-worker', [MODEL]),
    });
    expect(res.status).toBe(401);
    expect(res.body.rc).toBe('InvalidAPIKey');
  });

  it('answers an empty queue with 200 and a null job', async () => {
    const res = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody(workerName, [MODEL]),
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toBeNull();
    expect(res.body.ids).toEqual([]);
    expect(typeof res.body.skipped).toBe('object');
    expect(res.body.skipped).not.toBeNull();
    expect(Array.isArray(res.body.messages)).toBe(true);
  });

  it('makes the worker visible by name after its first pop', async () => {
    const res = await ts.call('GET', `/workers/name/${encodeURIComponent(workerName)}`);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe(workerName);
    expect(res.body.type).toBe('image');
    expect(typeof res.body.id).toBe('string');
    workerId = res.body.id;
    const byId = await ts.call('GET', `/workers/${workerId}`);
    expect(byId.status).toBe(200);
    expect(byId.body.name).toBe(workerName);
    expect(byId.body.models).toEqual([MODEL]);
  });

  it('lists the online worker under GET /workers?type=image', async () => {
    const res = await ts.call('GET', '/workers?type=image');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    const names = res.body.map((w: { name: string }) => w.name);
    expect(names).toContain(workerName);
    const text = await ts.call('GET', '/workers?type=text');
    expect(text.status).toBe(200);
    expect(text.body.map((w: { name: string }) => w.name)).not.toContain(workerName);
  });

  it('refuses a pop under a worker name another user owns with 403 WrongCredentials', async () => {
    const res = await ts.call('POST', '/generate/pop', {
      apikey: stranger.apiKey,
      body: regenPopBody(workerName, [MODEL]),
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('WrongCredentials');
    // reGen recognises this refusal by the phrase (ecosystem §1.1, "Reactions to pop errors").
    expect(res.body.message.toLowerCase()).toContain('wrong credentials');
  });

  it('answers an unknown worker id with 404 WorkerNotFound', async () => {
    const res = await ts.call('GET', `/workers/${UNKNOWN_UUID}`);
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('WorkerNotFound');
  });
});

describe('changing a worker', () => {
  it('lets the owner set maintenance, shown as maintenance_mode', async () => {
    const res = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: owner.apiKey,
      body: { maintenance: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.maintenance).toBe(true);
    const view = await ts.call('GET', `/workers/${workerId}`);
    expect(view.body.maintenance_mode).toBe(true);
  });

  it('refuses a pop in maintenance with nothing of the owner queued: 403 WorkerMaintenance', async () => {
    // Someone else's request is waiting: a worker in maintenance must not get it.
    const queued = await ts.call('POST', '/generate/async', {
      apikey: stranger.apiKey,
      body: imageRequest(MODEL),
    });
    expect(queued.status).toBe(202);
    const res = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody(workerName, [MODEL]),
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('WorkerMaintenance');
    expect(res.body.message).toContain('maintenance mode');
    const cancelled = await ts.call('DELETE', `/generate/status/${queued.body.id}`);
    expect(cancelled.status).toBe(200);
  });

  it('gives a worker in maintenance its owner’s own requests', async () => {
    const own = await ts.call('POST', '/generate/async', { apikey: owner.apiKey, body: imageRequest(MODEL) });
    expect(own.status).toBe(202);
    const res = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody(workerName, [MODEL]),
    });
    expect(res.status).toBe(200);
    expect(res.body.id).toEqual(expect.any(String));
    const submit = await ts.call('POST', '/generate/submit', {
      apikey: owner.apiKey,
      body: { id: res.body.id, generation: TINY_WEBP_BASE64, state: 'ok', seed: 1 },
    });
    expect(submit.status).toBe(200);
  });

  it('lets the owner leave maintenance', async () => {
    const res = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: owner.apiKey,
      body: { maintenance: false },
    });
    expect(res.status).toBe(200);
    expect(res.body.maintenance).toBe(false);
    const view = await ts.call('GET', `/workers/${workerId}`);
    expect(view.body.maintenance_mode).toBe(false);
  });

  it('refuses a stranger with 403 NotOwner', async () => {
    const res = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: stranger.apiKey,
      body: { maintenance: true },
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotOwner');
    const view = await ts.call('GET', `/workers/${workerId}`);
    expect(view.body.maintenance_mode).toBe(false);
  });

  it('refuses `paused` from the owner with 403 NotModerator', async () => {
    const res = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: owner.apiKey,
      body: { paused: true },
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotModerator');
  });

  it('lets a moderator pause and unpause', async () => {
    const pause = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: ts.admin.apiKey,
      body: { paused: true },
    });
    expect(pause.status).toBe(200);
    expect(pause.body.paused).toBe(true);
    const view = await ts.call('GET', `/workers/${workerId}`, { apikey: ts.admin.apiKey });
    expect(view.body.paused).toBe(true);
    const unpause = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: ts.admin.apiKey,
      body: { paused: false },
    });
    expect(unpause.status).toBe(200);
    expect(unpause.body.paused).toBe(false);
  });

  it('answers an empty change with 400 NoWorkerModSelected', async () => {
    const res = await ts.call('PUT', `/workers/${workerId}`, { apikey: owner.apiKey, body: {} });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('NoWorkerModSelected');
  });
});

describe('deleting a worker', () => {
  const doomed = 'worker-ops-doomed';
  let doomedId: string;

  beforeAll(async () => {
    const pop = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody(doomed, [MODEL]),
    });
    expect(pop.status).toBe(200);
    const found = await ts.call('GET', `/workers/name/${doomed}`);
    doomedId = found.body.id;
  });

  it('refuses a stranger with 403 NotModerator', async () => {
    const res = await ts.call('DELETE', `/workers/${doomedId}`, { apikey: stranger.apiKey });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotModerator');
    expect((await ts.call('GET', `/workers/${doomedId}`)).status).toBe(200);
  });

  it('lets the owner delete it, after which it is 404', async () => {
    const res = await ts.call('DELETE', `/workers/${doomedId}`, { apikey: owner.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted_id: doomedId, deleted_name: doomed });
    const gone = await ts.call('GET', `/workers/${doomedId}`);
    expect(gone.status).toBe(404);
    expect(gone.body.rc).toBe('WorkerNotFound');
  });
});

describe('submitting', () => {
  let jobId: string;

  it('answers an unknown job with 404 InvalidJobID saying it "does not exist"', async () => {
    const res = await ts.call('POST', '/generate/submit', {
      apikey: owner.apiKey,
      body: { id: UNKNOWN_UUID, generation: 'R2', state: 'ok', seed: 0 },
    });
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('InvalidJobID');
    expect(res.body.message).toContain('does not exist');
  });

  it('pops a job for the submit checks', async () => {
    const queued = await ts.call('POST', '/generate/async', {
      apikey: ts.admin.apiKey,
      body: imageRequest(MODEL),
    });
    expect(queued.status).toBe(202);
    const pop = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody(workerName, [MODEL]),
    });
    expect(pop.status).toBe(200);
    expect(pop.body.id).toEqual(expect.any(String));
    jobId = pop.body.id;
  });

  it('refuses a submit by another user with 403 WrongCredentials', async () => {
    const res = await ts.call('POST', '/generate/submit', {
      apikey: stranger.apiKey,
      body: { id: jobId, generation: TINY_WEBP_BASE64, state: 'ok', seed: 0 },
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('WrongCredentials');
  });

  it('rewards the first submit', async () => {
    const res = await ts.call('POST', '/generate/submit', {
      apikey: owner.apiKey,
      body: { id: jobId, generation: TINY_WEBP_BASE64, state: 'ok', seed: 0 },
    });
    expect(res.status).toBe(200);
    expect(res.body.reward).toBeGreaterThan(0);
  });

  it('answers a duplicate with 400 DuplicateGen saying "already submitted"', async () => {
    const res = await ts.call('POST', '/generate/submit', {
      apikey: owner.apiKey,
      body: { id: jobId, generation: TINY_WEBP_BASE64, state: 'ok', seed: 0 },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('DuplicateGen');
    expect(res.body.message).toContain('already submitted');
  });
});
