/**
 * The remote `HordeClient` (the community JS SDK underneath) against our server on a port, with our worker
 * node on the demo backend: image requests followed over the SSE stream and by polling, cancellation,
 * accounts and transfers between two keys, the server's refusals as `HordeError` with its `rc`, the model
 * and worker lists, and what the chat framework does only in remote mode (polling, linked keys). The
 * `/draw` walk, kudos and refusals in remote mode are the adapter conformance suite's
 * (`conformance.test.ts`).
 */
import {
  type ChatApp,
  createChatApp,
  createRemoteClient,
  drawPlugin,
  explainError,
  kudosPlugin,
  type RemoteClientOptions,
} from '@hordekit/adapters';
import { MemoryPlatform, memoryPlace, memoryUser } from '@hordekit/adapters/testing';
import { HordeError, type RequestEvent, type RequestStatus } from '@hordekit/core';
import type { ImageWorker } from '@hordekit/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoWorker, uploadedBytes, waitForWorker } from '../support/chat-harness.js';
import { startTestServer, type TestAccount, type TestServer } from '../support/server.js';

const SD = 'stable_diffusion';
const WORKER = 'remote-gpu';
const TEXT_MODEL = 'elinas/chronos-70b-v2';
const NO_SUCH_REQUEST = '00000000-0000-0000-0000-000000000000';

let ts: TestServer;
let worker: ImageWorker;
let owner: TestAccount;
let workerId: string;
let bot: TestAccount;

beforeAll(async () => {
  ts = await startTestServer();
  bot = await ts.user('bot', 1000);
  ({ worker, owner } = await startDemoWorker(ts, { name: WORKER }));
  workerId = await waitForWorker(ts);
});

afterAll(async () => {
  await worker?.stop({ halt: true });
  await ts?.close();
});

/** A client on the bot's key; `urls` records what it fetched itself (not through the SDK). */
function remote(options: Partial<RemoteClientOptions> = {}) {
  const urls: string[] = [];
  const client = createRemoteClient({
    url: ts.origin,
    apiKey: bot.apiKey,
    clientAgent: 'hordekit-tests:1:https://example.org',
    pollIntervalMs: 100,
    listCacheMs: 0,
    fetch: (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    },
    ...options,
  });
  return { client, urls };
}

function sdImage(n = 2, steps = 10) {
  return {
    prompt: 'a lighthouse at dusk',
    params: { width: 512, height: 512, steps, n },
    models: [SD],
    r2: true,
  };
}

/** Keeps the worker from taking jobs (maintenance) while `run` queues and starts watching. */
async function withWorkerHeld<T>(run: () => Promise<T>): Promise<T> {
  await ts.call('PUT', `/workers/${workerId}`, { apikey: owner.apiKey, body: { maintenance: true } });
  try {
    return await run();
  } finally {
    await ts.call('PUT', `/workers/${workerId}`, { apikey: owner.apiKey, body: { maintenance: false } });
  }
}

/** Queues an image request with the worker held, and returns its events once the request is done. */
async function drawAndWatch(client: ReturnType<typeof remote>['client'], n = 2) {
  const events: RequestEvent[] = [];
  let id = '';
  let iterator: AsyncIterator<RequestEvent> | undefined;
  await withWorkerHeld(async () => {
    const accepted = await client.generateImage({ apiKey: bot.apiKey }, sdImage(n));
    id = accepted.id!;
    iterator = client.watch(id, { signal: AbortSignal.timeout(20_000) })[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (!first.done) events.push(first.value);
  });
  for (let next = await iterator!.next(); !next.done; next = await iterator!.next()) events.push(next.value);
  return { id, events };
}

async function expectWorkerImages(client: ReturnType<typeof remote>['client'], status: RequestStatus) {
  for (const generation of status.generations) {
    const uploaded = await ts.server.blobs.get(`${generation.id}.webp`);
    expect(uploaded).toBeDefined();
    const bytes = await client.image(generation);
    expect(Buffer.from(bytes).equals(Buffer.from(uploaded!))).toBe(true);
  }
}

describe('an image request followed over the SSE stream (the horde is hordekit)', () => {
  it('watch yields position, processing, generation and done; status and image() give the worker’s bytes', async () => {
    const { client, urls } = remote();
    const { id, events } = await drawAndWatch(client);
    expect(urls.some((url) => url.endsWith('/.well-known/serviceinfo'))).toBe(true);
    expect(urls.some((url) => url.includes(`/generate/stream/${id}`))).toBe(true);

    const types = events.map((event) => event.type);
    expect(types[0]).toBe('position');
    expect(types.at(-1)).toBe('done');
    expect(types.filter((type) => type === 'generation')).toHaveLength(2);
    const processing = events.find((event) => event.type === 'processing');
    expect(processing).toMatchObject({ requestId: id, kind: 'image', workerName: WORKER, model: SD });
    expect(events.find((event) => event.type === 'generation')).toMatchObject({
      workerName: WORKER,
      model: SD,
      state: 'ok',
      seed: expect.any(String),
    });

    const status = await client.status(id);
    expect(status).toMatchObject({ done: true, finished: 2, faulted: false });
    expect(events.at(-1)).toMatchObject({ type: 'done', kudos: status.kudos });
    expect(status.generations).toHaveLength(2);
    for (const generation of status.generations) {
      expect(generation).toMatchObject({
        kind: 'image',
        worker_id: workerId,
        worker_name: WORKER,
        model: SD,
      });
      expect(typeof generation.seed).toBe('string');
      expect(generation.generation).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    }
    await expectWorkerImages(client, status);
  });

  it('a request that already ended gets one `done` with its kudos', async () => {
    const { client } = remote();
    const { id } = await drawAndWatch(client, 1);
    const again: RequestEvent[] = [];
    for await (const event of client.watch(id)) again.push(event);
    expect(again).toEqual([
      expect.objectContaining({ type: 'done', requestId: id, kudos: (await client.status(id)).kudos }),
    ]);
  });
});

describe('an image request followed by polling (`stream: false`)', () => {
  it('synthesises position, generation and done from check; status once at the end', async () => {
    const { client, urls } = remote({ stream: false });
    const { id, events } = await drawAndWatch(client);
    expect(urls.some((url) => url.includes('/generate/stream/') || url.includes('serviceinfo'))).toBe(false);

    expect(events[0]).toMatchObject({ type: 'position', requestId: id, position: expect.any(Number) });
    const tail = events.slice(-3);
    expect(tail.map((event) => event.type)).toEqual(['generation', 'generation', 'done']);
    for (const event of tail.slice(0, 2)) {
      expect(event).toMatchObject({ workerId, workerName: WORKER, model: SD, state: 'ok', censored: false });
    }
    const status = await client.status(id);
    expect(tail[2]).toMatchObject({ kudos: status.kudos });
    expect(status.generations.map((generation) => generation.id).sort()).toEqual(
      tail
        .slice(0, 2)
        .map((event) => (event.type === 'generation' ? event.jobId : ''))
        .sort(),
    );
    await expectWorkerImages(client, status);
  });

  for (const stream of [true, false]) {
    it(`a watch ends quietly when its signal aborts (${stream ? 'stream' : 'polling'})`, async () => {
      const { client } = remote({ stream });
      // Nobody serves this model: the request waits.
      const accepted = await client.generateImage(
        { apiKey: bot.apiKey },
        { ...sdImage(1), models: ['Deliberate'] },
      );
      const controller = new AbortController();
      const seen: RequestEvent[] = [];
      setTimeout(() => controller.abort(), 300);
      for await (const event of client.watch(accepted.id!, { signal: controller.signal })) seen.push(event);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen.map((event) => event.type))).toEqual(new Set(['position']));
      await client.cancel(accepted.id!);
    });
  }
});

describe('cancel', () => {
  for (const stream of [true, false]) {
    it(`ends the watch with \`cancelled\` (${stream ? 'stream' : 'polling'})`, async () => {
      const { client } = remote({ stream });
      // Nobody serves this model: the request waits until cancelled.
      const accepted = await client.generateImage(
        { apiKey: bot.apiKey },
        { ...sdImage(1), models: ['Deliberate'] },
      );
      expect(accepted.warnings).toEqual([{ code: 'NoAvailableWorker', message: expect.any(String) }]);
      const watching = (async () => {
        const events: RequestEvent[] = [];
        for await (const event of client.watch(accepted.id!)) events.push(event);
        return events;
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const status = await client.cancel(accepted.id!);
      expect(status).toMatchObject({ waiting: 1, finished: 0, generations: [] });
      const events = await watching;
      expect(events.at(-1)).toMatchObject({ type: 'cancelled', requestId: accepted.id });
      expect((await client.check(accepted.id!)).waiting).toBe(0);
    });
  }

  it('a polling watch sees a cancel made elsewhere (nothing waiting or in flight any more)', async () => {
    const { client } = remote({ stream: false });
    const accepted = await client.generateImage(
      { apiKey: bot.apiKey },
      { ...sdImage(1), models: ['Deliberate'] },
    );
    const watching = (async () => {
      const events: RequestEvent[] = [];
      for await (const event of client.watch(accepted.id!)) events.push(event);
      return events;
    })();
    await new Promise((resolve) => setTimeout(resolve, 250));
    await remote().client.cancel(accepted.id!);
    expect((await watching).at(-1)).toMatchObject({ type: 'cancelled' });
  });
});

describe('text requests (no text check route upstream: the text status is read)', () => {
  it('check, status and cancel find a text request, also from a client that did not send it', async () => {
    const { client } = remote();
    const accepted = await client.generateText(
      { apiKey: bot.apiKey },
      {
        prompt: 'Once upon a time',
        params: { max_length: 64, max_context_length: 1024 },
        models: [TEXT_MODEL],
      },
    );
    expect((await client.check(accepted.id!)).waiting).toBe(1);
    const stranger = remote().client;
    expect((await stranger.status(accepted.id!)).waiting).toBe(1);
    expect((await stranger.cancel(accepted.id!)).generations).toEqual([]);
    expect((await client.check(accepted.id!)).waiting).toBe(0);
  });
});

describe('accounts and kudos', () => {
  it('account() is find_user in core’s shape', async () => {
    const { client } = remote();
    const account = await client.account({ apiKey: bot.apiKey });
    expect(account).toMatchObject({
      id: bot.id,
      username: 'bot',
      alias: bot.alias,
      escrow: 0,
      moderator: false,
    });
    expect(account.kudos).toBeGreaterThan(0);
    expect(await client.activity({ apiKey: bot.apiKey })).toEqual([]);
  });

  it('accountFor acts through the bot’s key unless keyFor has the user’s own', async () => {
    const linked = await ts.user('linked', 7);
    const { client } = remote({
      keyFor: async (identity) => (identity.externalId === 'linked-user' ? linked.apiKey : undefined),
    });
    const plain = await client.accountFor({ provider: 'memory', externalId: 'someone', username: 'Someone' });
    expect(plain).toEqual({
      credentials: { apiKey: bot.apiKey },
      account: expect.objectContaining({ alias: bot.alias }),
      created: false,
      shared: true,
    });
    const own = await client.accountFor({ provider: 'memory', externalId: 'linked-user', username: 'L' });
    expect(own.credentials).toEqual({ apiKey: linked.apiKey });
    expect(own.shared).toBe(false);
    expect(own.account).toMatchObject({ id: linked.id, alias: linked.alias, kudos: 7 });
  });

  it('transfer moves kudos between two keys; with an Idempotency-Key a repeat moves nothing', async () => {
    const sender = await ts.user('sender', 100);
    const receiver = await ts.user('receiver', 5);
    const { client, urls } = remote();
    expect(
      await client.transfer({ apiKey: sender.apiKey }, { to: receiver.alias, amount: 10 }),
    ).toMatchObject({
      transferred: 10,
    });
    expect((await client.account({ apiKey: sender.apiKey })).kudos).toBe(90);
    expect((await client.account({ apiKey: receiver.apiKey })).kudos).toBe(15);

    for (let i = 0; i < 2; i++) {
      const outcome = await client.transfer(
        { apiKey: sender.apiKey },
        { to: receiver.alias, amount: 20, idempotencyKey: 'tip-1' },
      );
      expect(outcome.transferred).toBe(20);
    }
    expect(urls.filter((url) => url.endsWith('/kudos/transfer'))).toHaveLength(2);
    expect((await client.account({ apiKey: sender.apiKey })).kudos).toBe(70);
    expect((await client.account({ apiKey: receiver.apiKey })).kudos).toBe(35);
  });
});

describe('refusals arrive as HordeError with the server’s rc', () => {
  async function errorOf(call: Promise<unknown>): Promise<HordeError> {
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(HordeError);
    return error as HordeError;
  }

  it('KudosUpfront for a big request by a 0-kudos user, with the kudos needed, said in words', async () => {
    const poor = await ts.user('poor', 0);
    const { client } = remote();
    const error = await errorOf(
      client.generateImage(
        { apiKey: poor.apiKey },
        { prompt: 'a huge cat', params: { width: 1216, height: 832, steps: 150, n: 4 }, models: [SD] },
      ),
    );
    expect(error.rc).toBe('KudosUpfront');
    expect(error.details).toMatchObject({
      status: 403,
      remoteRc: 'KudosUpfront',
      required: expect.any(Number),
    });
    expect(error.message).toMatch(/requires \d+ kudos/);
    expect(
      await explainError(error, { client, account: () => client.account({ apiKey: poor.apiKey }) }),
    ).toMatch(/^That request is too big to run on credit\. It needs \d+ kudos upfront, and you have 0\./);
  });

  it('InvalidAPIKey for an unknown key, on generate and on find_user alike', async () => {
    const { client } = remote();
    const bogus = { apiKey: 'x'.repeat(22) };
    expect((await errorOf(client.generateImage(bogus, sdImage(1)))).rc).toBe('InvalidAPIKey');
    expect((await errorOf(client.account(bogus))).rc).toBe('InvalidAPIKey');
  });

  it('RequestNotFound, KudosTransferToSelf, and ValidationError with its field', async () => {
    const { client } = remote();
    expect((await errorOf(client.check(NO_SUCH_REQUEST))).rc).toBe('RequestNotFound');
    expect((await errorOf(client.status(NO_SUCH_REQUEST))).rc).toBe('RequestNotFound');
    const self = await errorOf(client.transfer({ apiKey: bot.apiKey }, { to: bot.alias, amount: 1 }));
    expect(self.rc).toBe('KudosTransferToSelf');
    const invalid = await errorOf(
      client.generateImage({ apiKey: bot.apiKey }, { ...sdImage(1), params: { width: 513, height: 512 } }),
    );
    expect(invalid.rc).toBe('ValidationError');
    expect(Object.keys(invalid.errors ?? {}).join()).toMatch(/width/);
  });

  it('credentials by account id cannot act on a remote horde', async () => {
    const { client } = remote();
    const error = await errorOf(client.account({ accountId: bot.id }));
    expect(error.message).toMatch(/API key only/);
  });
});

describe('models and workers', () => {
  it('models(kind) lists what is served, with queue and ETA, of that kind only', async () => {
    const { client, urls } = remote();
    const image = await client.models('image');
    expect(image.find((model) => model.name === SD)).toMatchObject({
      count: 1,
      type: 'image',
      eta: expect.any(Number),
    });
    expect(urls.at(-1)).toMatch(/\/status\/models\?type=image$/);
    for (const model of await client.models('text')) expect(model.type).toBe('text');
  });

  it('workers(kind) lists the online worker with what the framework reads', async () => {
    const { client } = remote();
    const [listed, ...others] = await client.workers('image');
    expect(others).toEqual([]);
    expect(listed).toMatchObject({
      id: workerId,
      name: WORKER,
      type: 'image',
      online: true,
      models: [SD],
      maintenance_mode: false,
    });
    expect(await client.workers('text')).toEqual([]);
    expect((await client.workers()).map((entry) => entry.name)).toEqual([WORKER]);
  });

  it('reuses the lists for listCacheMs', async () => {
    const { client, urls } = remote({ listCacheMs: 60_000 });
    await client.models('image');
    await client.models('image');
    expect(urls.filter((url) => url.includes('/status/models'))).toHaveLength(1);
  });
});

describe('the chat framework in remote mode', () => {
  let app: ChatApp;
  let platform: MemoryPlatform;
  let friend: TestAccount;
  const place = memoryPlace('guild-remote');
  const alice = memoryUser('alice-id', 'Alice');
  const bob = memoryUser('bob-id', 'Bob');
  const lastFor = (userId: string) => platform.visible(place.channelId, userId).at(-1)!;

  beforeAll(async () => {
    friend = await ts.user('friend', 40);
    app = createChatApp({
      horde: {
        client: remote({
          keyFor: async (identity) => (identity.externalId === bob.id ? friend.apiKey : undefined),
        }).client,
        mode: 'remote',
      },
      plugins: [drawPlugin(), kudosPlugin()],
    });
    platform = new MemoryPlatform();
  });

  it('/draw by polling (`stream: false`) ends the same way', async () => {
    const carol = memoryUser('carol-id', 'Carol');
    const polling = createChatApp({
      horde: { client: remote({ stream: false }).client, mode: 'remote' },
      plugins: [drawPlugin()],
    });
    await platform.command(polling, carol, place, 'draw', { prompt: 'a red boat', seed: '5', steps: 10 });
    const result = platform.visible(place.channelId).at(-1)!;
    expect(result.text).toMatch(
      /^“a red boat” — seed 5 · stable_diffusion · drawn by remote-gpu · [\d.]+ kudos\.$/,
    );
    const uploaded = await uploadedBytes(ts, result.buttons[0]![0]!.payload);
    expect(Buffer.from(result.images[0]!.bytes).equals(Buffer.from(uploaded!))).toBe(true);
  });

  it('someone with a linked key has kudos of their own: /transfer moves them, /kudos names their account', async () => {
    await platform.command(app, bob, place, 'transfer', { to: alice.id, amount: 2 });
    expect(lastFor(bob.id).text).toMatch(/^Bob sent 2 kudos to /);
    await platform.command(app, bob, place, 'kudos');
    expect(lastFor(bob.id).text).toMatch(
      new RegExp(`^You have 38 kudos\\. Your horde account is ${friend.alias}\\.`),
    );
  });
});
