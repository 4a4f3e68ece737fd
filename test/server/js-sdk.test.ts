/**
 * The community JS SDK (`@zeldafan0225/ai_horde` 5.2.0, ecosystem §2.1) against our server, unchanged except
 * for `api_route`: users, an image and a text round trip, cancellation, status and stats, worker management,
 * kudos, errors as `APIError` and `X-Fields`. Every call goes through an SDK method; only the R2 upload is a
 * plain `fetch`, because the SDK has no upload helper (workers PUT the bytes themselves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absoluteUrl, download, KOBOLDCPP_AGENT, TINY_WEBP, upload } from '../support/horde-http.js';
import {
  type AIHorde,
  apiErrorOf,
  createSdk,
  imageSubmit,
  koboldPop,
  regenPop,
  type WireImagePop,
  type WireTextPop,
} from '../support/js-sdk.js';
import { REGEN_AGENT, startTestServer, type TestAccount, type TestServer } from '../support/server.js';

const SD = 'stable_diffusion';
const TEXT_MODEL = 'elinas/chronos-70b-v2';
const DREAMER = 'sdk-dreamer';
const SCRIBE = 'sdk-scribe';
const NO_SUCH_REQUEST = '00000000-0000-0000-0000-000000000000';

let ts: TestServer;
let sdk: AIHorde;
let gpu: TestAccount;

beforeAll(async () => {
  ts = await startTestServer();
  sdk = createSdk(ts);
  gpu = await ts.user('sdk_gpu', 0);
});

afterAll(async () => {
  await ts?.close();
});

function popImage(amount = 2) {
  return sdk.postImageGenerationPop(
    regenPop({
      name: DREAMER,
      models: [SD],
      bridge_agent: REGEN_AGENT,
      amount,
      nsfw: true,
      max_pixels: 4_194_304,
    }),
    { token: gpu.apiKey },
  ) as Promise<WireImagePop>;
}

function sdImage(params: Record<string, number> = {}) {
  return {
    prompt: 'a lighthouse at dusk ### blurry',
    params: { width: 512, height: 512, steps: 10, n: 2, ...params },
    models: [SD],
    nsfw: false,
    r2: true,
  };
}

describe('users', () => {
  it('findUser(token) answers our alias, id and kudos', async () => {
    const me = await sdk.findUser({ token: ts.admin.apiKey });
    expect(me.username).toBe(ts.admin.alias);
    expect(me.id).toBe(ts.admin.id);
    expect(me.kudos).toBe(10_000);
  });

  it('getUserDetails(id) answers the same account', async () => {
    const details = await sdk.getUserDetails(gpu.id);
    expect(details.id).toBe(gpu.id);
    expect(details.username).toBe(gpu.alias);
    expect(details.kudos).toBe(0);
  });

  it('getUsers() lists every account', async () => {
    const users = await sdk.getUsers();
    expect(Array.isArray(users)).toBe(true);
    expect(users.map((user) => user.username)).toEqual(expect.arrayContaining([ts.admin.alias, gpu.alias]));
  });
});

describe('an image round trip through the SDK', () => {
  let requestId: string;
  let pop: WireImagePop;

  it('postAsyncImageGenerate queues n=2 and answers the id and its kudos cost', async () => {
    const queued = await sdk.postAsyncImageGenerate(sdImage(), { token: ts.admin.apiKey });
    expect(queued.id).toEqual(expect.any(String));
    expect(queued.kudos).toBeGreaterThan(0);
    requestId = queued.id!;
  });

  it('getImageGenerationCheck shows both images waiting with a queue position', async () => {
    const check = await sdk.getImageGenerationCheck(requestId);
    expect(check.waiting).toBe(2);
    expect(check.processing).toBe(0);
    expect(check.finished).toBe(0);
    expect(check.done).toBe(false);
    expect(check.faulted).toBe(false);
    expect(check.queue_position).toEqual(expect.any(Number));
    expect(check.queue_position).toBeGreaterThanOrEqual(0);
  });

  it('postImageGenerationPop (reGen-shaped, amount 2) hands out both jobs with an upload URL each', async () => {
    pop = await popImage(2);
    expect(pop.ids).toHaveLength(2);
    expect(pop.id).toBe(pop.ids[0]);
    expect(pop.model).toBe(SD);
    expect(pop.payload?.ddim_steps).toBe(10);
    expect(pop.payload?.width).toBe(512);
    expect(typeof pop.payload?.seed).toBe('string');
    expect(pop.r2_uploads).toHaveLength(2);
    expect(pop.r2_upload).toBe(pop.r2_uploads[0]);
  });

  it('takes the bytes at each r2_uploads URL (plain fetch: the SDK has no upload helper)', async () => {
    for (const url of pop.r2_uploads) expect(await upload(absoluteUrl(ts, url), TINY_WEBP)).toBe(200);
  });

  it('postImageGenerationSubmit({generation: "R2"}) rewards each job', async () => {
    for (const [index, id] of pop.ids.entries()) {
      const submitted = await sdk.postImageGenerationSubmit(
        imageSubmit({ id, generation: 'R2', state: 'ok', seed: index }),
        { token: gpu.apiKey },
      );
      expect(submitted.reward).toBeGreaterThan(0);
    }
  });

  it('getImageGenerationStatus is done with two downloadable images and string seeds', async () => {
    const status = await sdk.getImageGenerationStatus(requestId);
    expect(status.done).toBe(true);
    expect(status.finished).toBe(2);
    expect(status.waiting).toBe(0);
    expect(status.generations).toHaveLength(2);
    const generations = status.generations ?? [];
    expect(generations.map((gen) => gen.id).sort()).toEqual([...pop.ids].sort());
    expect(generations.map((gen) => gen.seed).sort()).toEqual(['0', '1']);
    for (const gen of generations) {
      expect(gen.worker_name).toBe(DREAMER);
      expect(gen.model).toBe(SD);
      expect(gen.censored).toBe(false);
      const image = await download(absoluteUrl(ts, gen.img!));
      expect(image.status).toBe(200);
      expect(image.bytes.equals(TINY_WEBP)).toBe(true);
    }
  });

  it('the worker has earned what the submits rewarded: findUser shows the owner’s kudos', async () => {
    const owner = await sdk.findUser({ token: gpu.apiKey });
    expect(owner.kudos).toBeGreaterThan(0);
    expect(owner.worker_count).toBe(1);
  });
});

describe('cancellation', () => {
  it('deleteImageGenerationRequest answers the status and later pops get nothing for it', async () => {
    const queued = await sdk.postAsyncImageGenerate(sdImage({ n: 1 }), { token: ts.admin.apiKey });
    const cancelled = await sdk.deleteImageGenerationRequest(queued.id!);
    // The status is computed before the cancel (spec: DELETE /generate/status/{id}).
    expect(cancelled.waiting).toBe(1);
    expect(cancelled.finished).toBe(0);
    expect(cancelled.generations).toEqual([]);
    expect(cancelled.done).toBe(false);
    expect((await sdk.getImageGenerationCheck(queued.id!)).waiting).toBe(0);
    const next = await popImage(2);
    expect(next.id).toBeNull();
    expect(next.ids).toEqual([]);
    expect(next.skipped).toEqual(expect.any(Object));
  });
});

describe('a text round trip through the SDK', () => {
  let requestId: string;
  let pop: WireTextPop;

  it('postAsyncTextGenerate queues the request', async () => {
    const queued = await sdk.postAsyncTextGenerate(
      {
        prompt: 'Once upon a time, in a horde far away,',
        params: { max_length: 128, max_context_length: 1024 },
        models: [TEXT_MODEL],
      },
      { token: ts.admin.apiKey },
    );
    expect(queued.id).toEqual(expect.any(String));
    requestId = queued.id!;
  });

  it('postTextGenerationPop (koboldcpp-shaped) hands out the job', async () => {
    pop = (await sdk.postTextGenerationPop(
      koboldPop({
        name: SCRIBE,
        models: [TEXT_MODEL],
        max_length: 512,
        max_context_length: 4096,
        softprompts: [],
        bridge_agent: KOBOLDCPP_AGENT,
      }),
      { token: gpu.apiKey },
    )) as WireTextPop;
    expect(pop.id).toEqual(expect.any(String));
    expect(pop.ids).toEqual([pop.id]);
    expect(pop.model).toBe(TEXT_MODEL);
    expect(pop.payload?.prompt).toBe('Once upon a time, in a horde far away,');
    expect(pop.payload?.max_length).toBe(128);
  });

  it('postTextGenerationSubmit (no seed) rewards the job', async () => {
    const submitted = await sdk.postTextGenerationSubmit(
      { id: pop.id!, generation: 'there lived a small GPU.', state: 'ok' },
      { token: gpu.apiKey },
    );
    expect(submitted.reward).toBeGreaterThan(0);
  });

  it('getTextGenerationStatus is done with the text', async () => {
    const status = await sdk.getTextGenerationStatus(requestId);
    expect(status.done).toBe(true);
    expect(status.generations).toHaveLength(1);
    const gen = status.generations![0]!;
    expect(gen.text).toBe('there lived a small GPU.');
    expect(gen.state).toBe('ok');
    expect(gen.model).toBe(TEXT_MODEL);
    expect(gen.worker_name).toBe(SCRIBE);
    expect(typeof gen.seed).toBe('number');
  });
});

describe('status and stats', () => {
  it('getHeartbeat resolves true', async () => {
    expect(await sdk.getHeartbeat()).toBe(true);
  });

  it('getModels() lists the image model our worker serves', async () => {
    const models = await sdk.getModels();
    const sd = models.find((model) => model.name === SD);
    expect(sd).toBeDefined();
    expect(sd!.count).toBe(1);
    expect(models.map((model) => model.name)).not.toContain(TEXT_MODEL);
  });

  it.skip('getModels({ type: "text" }) lists text models — 5.2.0 has no `type` option: the query is never sent', () => {});

  it('getModel(name) answers a one-element list, for image and text models alike', async () => {
    const [sd] = await sdk.getModel(SD);
    expect(sd).toMatchObject({ name: SD, count: 1, type: 'image' });
    // The SDK puts the name into the path as is: a name with a slash must be encoded by the caller.
    const [text] = await sdk.getModel(encodeURIComponent(TEXT_MODEL));
    expect(text).toMatchObject({ name: TEXT_MODEL, count: 1, type: 'text' });
  });

  it('getModel with an unencoded slash reaches no route: 404 (upstream’s Flask route cannot match it either)', async () => {
    const error = await apiErrorOf(sdk.getModel(TEXT_MODEL));
    expect(error.status).toBe(404);
    expect(error.url).toBe(`${ts.api}/status/models/${TEXT_MODEL}`);
  });

  it('getModes reports no mode set', async () => {
    const modes = await sdk.getModes({ token: ts.admin.apiKey });
    expect(modes.maintenance_mode).toBe(false);
    expect(modes.invite_only_mode).toBe(false);
    expect(modes.raid_mode).toBe(false);
  });

  it('getPerformance counts our image worker and nothing queued', async () => {
    const performance = await sdk.getPerformance();
    expect(performance.worker_count).toBe(1);
    expect(performance.queued_requests).toBe(0);
    expect(performance.thread_count).toBeGreaterThanOrEqual(1);
    expect(performance.queued_megapixelsteps).toBe(0);
  });

  it('getImageTotalStats counts both images (wire {images, ps}; typed {requests, tokens})', async () => {
    const totals = (await sdk.getImageTotalStats()) as unknown as Record<string, Record<string, number>>;
    expect(Object.keys(totals).sort()).toEqual(['day', 'hour', 'minute', 'month', 'total']);
    expect(totals.total!.images).toBe(2);
    expect(totals.total!.ps).toBeGreaterThan(0);
  });

  it('getImageModelStats counts both images under the model', async () => {
    const stats = await sdk.getImageModelStats();
    expect(stats.total?.[SD]).toBe(2);
    expect(stats.day?.[SD]).toBe(2);
  });

  it('getTextTotalStats counts the text request', async () => {
    const totals = await sdk.getTextTotalStats();
    expect(totals.total?.requests).toBe(1);
    expect(totals.total?.tokens).toBeGreaterThan(0);
  });

  it('getTextModelStats counts the text request under its model', async () => {
    const stats = await sdk.getTextModelStats();
    expect(stats.total?.[TEXT_MODEL]).toBe(1);
  });
});

describe('workers', () => {
  let workerId: string;

  it('getWorkers lists the image worker', async () => {
    const workers = await sdk.getWorkers();
    const dreamer = workers.find((worker) => worker.name === DREAMER);
    expect(dreamer).toBeDefined();
    expect(dreamer!.id).toEqual(expect.any(String));
    expect(dreamer!.online).toBe(true);
    workerId = dreamer!.id!;
  });

  it('getWorkerDetails(id) shows its models, agent and fulfilled jobs', async () => {
    const details = await sdk.getWorkerDetails(workerId, { token: gpu.apiKey });
    expect(details.id).toBe(workerId);
    expect(details.name).toBe(DREAMER);
    expect(details.models).toEqual([SD]);
    expect(details.bridge_agent).toBe(REGEN_AGENT);
    expect(details.requests_fulfilled).toBe(2);
    expect(details.maintenance_mode).toBe(false);
  });

  it('updateWorker({ maintenance: true }, id) by the owner, then false (the SDK takes the payload first)', async () => {
    const on = await sdk.updateWorker({ maintenance: true }, workerId, { token: gpu.apiKey });
    expect(on.maintenance).toBe(true);
    expect((await sdk.getWorkerDetails(workerId)).maintenance_mode).toBe(true);
    const off = await sdk.updateWorker({ maintenance: false }, workerId, { token: gpu.apiKey });
    expect(off.maintenance).toBe(false);
    expect((await sdk.getWorkerDetails(workerId)).maintenance_mode).toBe(false);
  });

  it('deleteWorker by its owner answers its id and name, after which it is gone', async () => {
    const deleted = await sdk.deleteWorker(workerId, { token: gpu.apiKey });
    expect(deleted.deleted_id).toBe(workerId);
    expect(deleted.deleted_name).toBe(DREAMER);
    const gone = await apiErrorOf(sdk.getWorkerDetails(workerId));
    expect(gone.status).toBe(404);
    expect(gone.error_code).toBe('WorkerNotFound');
  });
});

describe('kudos', () => {
  it('postKudosTransfer moves 10 kudos between two accounts', async () => {
    const sender = await ts.user('sdk_sender', 100);
    const receiver = await ts.user('sdk_receiver', 5);
    const transfer = await sdk.postKudosTransfer(
      { username: receiver.alias, amount: 10 },
      { token: sender.apiKey },
    );
    expect(transfer.transferred).toBe(10);
    expect((await sdk.findUser({ token: sender.apiKey })).kudos).toBe(90);
    expect((await sdk.getUserDetails(receiver.id)).kudos).toBe(15);
  });
});

describe('errors arrive as APIError with status and rc', () => {
  it('an unknown request id: 404 RequestNotFound', async () => {
    const error = await apiErrorOf(sdk.getImageGenerationCheck(NO_SUCH_REQUEST));
    expect(error.status).toBe(404);
    expect(error.error_code).toBe('RequestNotFound');
    expect(error.method).toBe('GET');
    expect(error.url).toBe(`${ts.api}/generate/check/${NO_SUCH_REQUEST}`);
  });

  it('a pop with the anonymous key (the SDK’s default token): 403 AnonForbiddenWorker', async () => {
    const error = await apiErrorOf(
      sdk.postImageGenerationPop(regenPop({ name: 'sdk-anon', models: [SD], bridge_agent: REGEN_AGENT })),
    );
    expect(error.status).toBe(403);
    expect(error.error_code).toBe('AnonForbiddenWorker');
  });

  it('a kudos transfer to oneself: 400 KudosTransferToSelf', async () => {
    const error = await apiErrorOf(
      sdk.postKudosTransfer({ username: ts.admin.alias, amount: 1 }, { token: ts.admin.apiKey }),
    );
    expect(error.status).toBe(400);
    expect(error.error_code).toBe('KudosTransferToSelf');
    expect(error.requestBody).toEqual({ username: ts.admin.alias, amount: 1 });
  });

  it('an image submit with a string seed, as the SDK types it: 400 with `errors.seed` (the API wants an int)', async () => {
    const queued = await sdk.postAsyncImageGenerate(sdImage({ n: 1 }), { token: ts.admin.apiKey });
    const job = (await sdk.postImageGenerationPop(
      regenPop({ name: 'sdk-dreamer-2', models: [SD], bridge_agent: REGEN_AGENT, amount: 1 }),
      { token: gpu.apiKey },
    )) as WireImagePop;
    expect(job.ids).toHaveLength(1);
    const error = await apiErrorOf(
      sdk.postImageGenerationSubmit({ id: job.id!, generation: 'R2', seed: '7' }, { token: gpu.apiKey }),
    );
    expect(error.status).toBe(400);
    expect(error.error_code).toBe('ValidationError');
    expect(Object.keys(error.errors)).toEqual(['seed']);
    expect(await upload(absoluteUrl(ts, job.r2_upload), TINY_WEBP)).toBe(200);
    const submitted = await sdk.postImageGenerationSubmit(
      imageSubmit({ id: job.id!, generation: 'R2', state: 'ok', seed: 7 }),
      { token: gpu.apiKey },
    );
    expect(submitted.reward).toBeGreaterThan(0);
    expect((await sdk.getImageGenerationStatus(queued.id!)).generations?.[0]?.seed).toBe('7');
  });

  it('a width of 513: 400 with the field in the `errors` map', async () => {
    const error = await apiErrorOf(
      sdk.postAsyncImageGenerate(sdImage({ width: 513 }), { token: ts.admin.apiKey }),
    );
    expect(error.status).toBe(400);
    expect(error.error_code).toBe('ValidationError');
    expect(error.message).toBe('Input payload validation failed');
    const fields = Object.keys(error.errors);
    expect(fields).toHaveLength(1);
    expect(fields[0]).toMatch(/width/);
  });
});

describe('the `fields` option (X-Fields)', () => {
  it('getImageGenerationCheck(id, { fields }) answers only those keys', async () => {
    const queued = await sdk.postAsyncImageGenerate(sdImage({ n: 1 }), {
      token: ts.admin.apiKey,
      fields: ['id'],
    });
    expect(Object.keys(queued)).toEqual(['id']);
    const check = await sdk.getImageGenerationCheck(queued.id!, { fields: ['done', 'waiting'] });
    expect(check).toEqual({ done: false, waiting: 1 });
    await sdk.deleteImageGenerationRequest(queued.id!);
  });

  it('findUser({ fields }) answers only those keys', async () => {
    const me = await sdk.findUser({ token: gpu.apiKey, fields: ['username', 'id'] });
    expect(me).toEqual({ username: gpu.alias, id: gpu.id });
  });
});
