/**
 * What the chat tests stand on: a real community horde on a port, our worker node on the demo backend,
 * a chat app on the embedded client whose cooldowns run on a test clock, and the bytes the worker uploaded
 * to check the pictures against. The platform (in-memory, a fake Discord, Telegram or Slack) is each test
 * file's own; its set-up ends with `waitForWorker`.
 */
import { type ChatApp, createChatApp, drawPlugin, kudosPlugin, type Middleware } from '@hordekit/adapters';
import { createEmbeddedClient } from '@hordekit/core';
import { FakeClock } from '@hordekit/core/testing';
import { blobImageReader } from '@hordekit/horde-server';
import { createDemoImageBackend, type ImageBackend, type ImageWorker } from '@hordekit/worker';
import { waitUntil } from './horde-http.js';
import { startTestServer, type TestAccount, type TestServer } from './server.js';
import { startImageWorker } from './worker-harness.js';

export interface DemoWorkerOptions {
  /**
   * How long the worker takes a step; a picture is 30 steps.
   * @default 5
   */
  stepDelayMs?: number;
  /**
   * The worker's name, as the captions show it.
   * @default 'demo-gpu'
   */
  name?: string;
}

/** Starts a `stable_diffusion` demo worker, owned by a new account, on `ts`. */
export async function startDemoWorker(
  ts: TestServer,
  options: DemoWorkerOptions = {},
): Promise<{ worker: ImageWorker; owner: TestAccount }> {
  const { worker, owner } = await startImageWorker(
    ts,
    createDemoImageBackend({ model: 'stable_diffusion', stepDelayMs: options.stepDelayMs ?? 5 }),
    { name: options.name ?? 'demo-gpu' },
  );
  return { worker, owner };
}

/**
 * The `stable_diffusion` demo backend at a pace that can change between jobs: each job is drawn by a demo
 * backend with `pace.stepDelayMs` as it is when the job starts.
 */
export function pacedDemoBackend(pace: { stepDelayMs: number }): ImageBackend {
  const backends = new Map<number, ImageBackend>();
  const current = () => {
    let backend = backends.get(pace.stepDelayMs);
    if (!backend) {
      backend = createDemoImageBackend({ model: 'stable_diffusion', stepDelayMs: pace.stepDelayMs });
      backends.set(pace.stepDelayMs, backend);
    }
    return backend;
  };
  const first = current();
  return {
    kind: first.kind,
    features: first.features,
    models: () => current().models(),
    generate: (job, context) => current().generate(job, context),
  };
}

/**
 * Returns the worker's id once the horde would send it jobs: until its first pop the worker is unknown,
 * and the horde's "could anyone serve it" view is refreshed once a second. The last step of a set-up, so
 * that the platform's own start has settled too before the first scenario.
 */
export async function waitForWorker(ts: TestServer): Promise<string> {
  const workerId = await waitUntil(async () => (await ts.horde.listWorkers('image'))[0]?.id);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  return workerId;
}

/** What the worker uploaded to the horde's image store for each generation of the request, in order. */
export async function uploadedImages(ts: TestServer, requestId: string): Promise<(Uint8Array | undefined)[]> {
  const { generations } = await ts.horde.requestStatus(requestId);
  return Promise.all(generations.map((generation) => ts.server.blobs.get(`${generation.id}.webp`)));
}

/** What the worker uploaded for generation `index` of the request. */
export async function uploadedBytes(
  ts: TestServer,
  requestId: string,
  index = 0,
): Promise<Uint8Array | undefined> {
  return (await uploadedImages(ts, requestId))[index];
}

export interface ChatHordeOptions extends Pick<DemoWorkerOptions, 'stepDelayMs'> {
  /** Runs before the framework's own middleware (to record what reached the framework, say). */
  middleware?: Middleware[];
}

export interface ChatHarness {
  ts: TestServer;
  worker: ImageWorker;
  /** `/draw` and `/kudos` on the embedded client of `ts.horde`. */
  app: ChatApp;
  /** The app's time, for cooldowns: it moves only by `advance`. */
  clock: FakeClock;
  uploadedBytes(requestId: string, index?: number): Promise<Uint8Array | undefined>;
  uploadedImages(requestId: string): Promise<(Uint8Array | undefined)[]>;
  /** `waitForWorker` on this horde: call it once the platform has started. */
  waitForWorker(): Promise<string>;
  /** Stops the worker (without finishing its jobs) and the horde. */
  close(): Promise<void>;
}

/** The horde, a demo worker named `demo-gpu`, and the chat app on top (call `waitForWorker` next). */
export async function startChatHorde(options: ChatHordeOptions = {}): Promise<ChatHarness> {
  const ts = await startTestServer();
  const { worker } = await startDemoWorker(ts, { stepDelayMs: options.stepDelayMs });
  const client = createEmbeddedClient(ts.horde, { readImage: blobImageReader(ts.server.blobs) });
  const clock = new FakeClock(Date.now());
  const app = createChatApp({
    horde: { client, mode: 'embedded' },
    plugins: [drawPlugin(), kudosPlugin()],
    now: () => clock.now(),
    middleware: options.middleware,
  });
  return {
    ts,
    worker,
    app,
    clock,
    uploadedBytes: (requestId, index) => uploadedBytes(ts, requestId, index),
    uploadedImages: (requestId) => uploadedImages(ts, requestId),
    waitForWorker: () => waitForWorker(ts),
    async close() {
      await worker.stop({ halt: true });
      await ts.close();
    },
  };
}
