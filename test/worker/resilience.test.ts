/**
 * The worker when things go wrong: the horde goes away and comes back mid-job, a backend fails or hangs
 * (faulted submit, another worker serves the request), submits are lost on the way (no double delivery),
 * and the horde refuses the worker (maintenance, someone else's name) — said as the owner's next step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BRIDGE_AGENT,
  createA1111Backend,
  createDemoImageBackend,
  HordeApi,
  ImageWorker,
  type TextWorker,
} from '@hordekit/worker';
import { startFakeA1111 } from '@hordekit/worker/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, buildApp, startApp, stopApp } from '../support/app-process.js';
import { type LossMode, startFlakyProxy } from '../support/flaky-proxy.js';
import { waitUntil } from '../support/horde-http.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  QUICK_TIMING,
  RecordingReporter,
  requestImage,
  startImageWorker,
  waitForStatus,
} from '../support/worker-harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function testServer(): Promise<TestServer> {
  const ts = await startTestServer();
  cleanups.push(() => ts.close());
  return ts;
}

function track<T extends ImageWorker | TextWorker>(worker: T): T {
  cleanups.push(() => worker.stop({ halt: true }));
  return worker;
}

const SMALL = { width: 512, height: 512, steps: 10 };

describe('the horde stops and comes back while the worker runs', () => {
  it('keeps the job, retries the upload and submit, and the request is served after the restart', async () => {
    buildApp();
    const dir = mkdtempSync(join(tmpdir(), 'hordekit-worker-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = String(await freePort());
    let app: AppProcess = await startApp(dir, 20_000, { HORDEKIT_PORT: port });
    cleanups.push(async () => void (await stopApp(app.child, 'SIGKILL')));

    const created = await fetch(`${app.api}/dev/test-user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'gpu-owner', oauth_id: 'gpu-owner' }),
    });
    const { api_key: ownerKey } = (await created.json()) as { api_key: string };
    const reporter = new RecordingReporter();
    const worker = track(
      new ImageWorker({
        api: new HordeApi({ url: app.origin, apiKey: ownerKey, clientAgent: BRIDGE_AGENT }),
        name: 'survivor',
        bridgeAgent: BRIDGE_AGENT,
        // A known model name, so the worker needs no special role; 40 steps × 50 ms = 2 s of "work".
        backend: createDemoImageBackend({ model: 'stable_diffusion', stepDelayMs: 50 }),
        reporter,
        timing: {
          ...QUICK_TIMING,
          submitRetry: { attempts: 60, initialDelayMs: 100, maxDelayMs: 300 },
          uploadRetry: { attempts: 60, initialDelayMs: 100, maxDelayMs: 300 },
        },
      }),
    );
    await worker.start();

    const accepted = await fetch(`${app.api}/generate/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: '0000000000' },
      body: JSON.stringify({
        prompt: 'a lighthouse',
        models: ['stable_diffusion'],
        params: { ...SMALL, steps: 40 },
      }),
    });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    await waitUntil(async () => (reporter.last?.inFlight.length === 1 ? true : undefined), 10_000);

    const stopped = await stopApp(app.child, 'SIGTERM');
    expect(stopped?.code).toBe(0);
    // Down long enough for the job to finish and its upload / submit to fail a few times.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(reporter.text()).toMatch(/upload failed \(.*connection refused.*\); retry/);
    app = await startApp(dir, 20_000, { HORDEKIT_PORT: port });

    const status = await waitUntil(async () => {
      const body = (await (await fetch(`${app.api}/generate/status/${id}`)).json()) as {
        done: boolean;
        generations: { worker_name: string; img: string }[];
      };
      return body.done ? body : undefined;
    }, 20_000);
    expect(status.generations).toHaveLength(1);
    expect(status.generations[0]!.worker_name).toBe('survivor');
    expect((await fetch(status.generations[0]!.img)).status).toBe(200);
    await expect.poll(() => reporter.last?.done).toBe(1);
    expect(reporter.last?.state).toBe('running');
    expect(reporter.last?.dropped).toBe(0);
  }, 60_000);
});

describe('a backend that fails', () => {
  it('errors: the job is submitted faulted and another worker serves the request', async () => {
    const ts = await testServer();
    const broken = await startFakeA1111({ checkpoints: ['deliberate_v2.safetensors'] });
    cleanups.push(() => broken.close());
    broken.failNext(1000, { path: '/sdapi/v1/txt2img', status: 500 });
    const requester = await ts.user('requester', 100);
    const first = await startImageWorker(
      ts,
      createA1111Backend({ url: broken.url, models: { Deliberate: 'deliberate_v2' } }),
      {
        name: 'broken-gpu',
        // One fault pauses it, so it does not take the re-queued request straight back.
        timing: { faultsBeforePause: 1, faultPauseMs: 60_000 },
      },
    );
    track(first.worker);
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a cat',
      models: ['Deliberate'],
      params: SMALL,
    });

    await expect.poll(() => first.reporter.last?.faulted, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(first.reporter.text()).toMatch(/failed on the backend.*submitting it as faulted/);
    await first.worker.stop();
    const check = await ts.call('GET', `/generate/check/${id}`);
    expect(check.body, first.reporter.text() + JSON.stringify(first.reporter.last)).toMatchObject({
      done: false,
      waiting: 1,
    });

    const second = await startImageWorker(ts, createDemoImageBackend({ model: 'Deliberate' }), {
      name: 'healthy-gpu',
    });
    track(second.worker);
    const status = await waitForStatus(ts, id);
    expect(status.generations.map((generation: { worker_name: string }) => generation.worker_name)).toEqual([
      'healthy-gpu',
    ]);
    await expectConsistentLedger(ts.horde.store);
  });

  it('hangs: the job times out, is submitted faulted, and another worker serves the request', async () => {
    const ts = await testServer();
    const stuck = await startFakeA1111({ checkpoints: ['deliberate_v2.safetensors'] });
    cleanups.push(() => stuck.close());
    stuck.hang(true, { path: '/sdapi/v1/txt2img' });
    const requester = await ts.user('requester', 100);
    const first = await startImageWorker(
      ts,
      createA1111Backend({ url: stuck.url, models: { Deliberate: 'deliberate_v2' } }),
      {
        name: 'stuck-gpu',
        timing: { jobTimeoutMs: 700, faultsBeforePause: 1, faultPauseMs: 60_000 },
      },
    );
    track(first.worker);
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a cat',
      models: ['Deliberate'],
      params: SMALL,
    });
    await expect.poll(() => first.reporter.last?.faulted, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(first.reporter.text()).toMatch(/time limit/);
    await first.worker.stop();

    const second = await startImageWorker(ts, createDemoImageBackend({ model: 'Deliberate' }), {
      name: 'healthy-gpu',
    });
    track(second.worker);
    const status = await waitForStatus(ts, id);
    expect(status.generations[0].worker_name).toBe('healthy-gpu');
  });
});

describe('lost submits', () => {
  /** One request served by a worker that talks through a proxy losing submits as `losses` say. */
  async function throughLossyProxy(losses: LossMode[]) {
    const ts = await testServer();
    const proxy = await startFlakyProxy(ts.origin);
    cleanups.push(() => proxy.close());
    for (const mode of losses) proxy.loseSubmits(1, mode);
    const requester = await ts.user('requester', 100);
    const served = await startImageWorker(ts, createDemoImageBackend({ model: 'Deliberate' }), {
      url: proxy.url,
    });
    track(served.worker);
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a cat',
      models: ['Deliberate'],
      params: SMALL,
    });
    const status = await waitForStatus(ts, id);
    expect(status.generations).toHaveLength(1);
    await expect.poll(() => served.reporter.last?.done).toBe(1);
    expect(served.reporter.last?.dropped).toBe(0);
    return { ts, proxy, ...served };
  }

  it('a submit lost twice before reaching the horde is delivered once by the third attempt', async () => {
    const { ts, proxy, owner, reporter } = await throughLossyProxy(['before', 'before']);
    expect(proxy.forwardedSubmits.map((submit) => submit.status)).toEqual([200]);
    expect(reporter.notices.filter((notice) => /submit of .* failed/.test(notice.message))).toHaveLength(2);
    expect(await rewardsOf(ts, owner.id)).toBe(1);
  });

  it('a submit whose answers were lost after the horde took it is not delivered twice', async () => {
    const { ts, proxy, owner } = await throughLossyProxy(['before', 'after']);
    // The horde took the second attempt; the third learnt it was already submitted and stopped there.
    await expect.poll(() => proxy.forwardedSubmits.map((submit) => submit.status)).toEqual([200, 400]);
    expect(proxy.forwardedSubmits[1]!.body).toMatch(/already submitted/);
    expect(await rewardsOf(ts, owner.id)).toBe(1);
    await expectConsistentLedger(ts.horde.store);
  });
});

describe('the horde refuses the worker', () => {
  it('in maintenance: pauses with the way out, and resumes once taken out of maintenance', async () => {
    const ts = await testServer();
    const { worker, owner, reporter } = await startImageWorker(
      ts,
      createDemoImageBackend({ model: 'Deliberate' }),
      {
        name: 'tired-gpu',
      },
    );
    track(worker);
    const workerId = await waitUntil(
      async () => (await ts.call('GET', '/workers')).body[0]?.id as string | undefined,
    );
    const put = await ts.call('PUT', `/workers/${workerId}`, {
      apikey: owner.apiKey,
      body: { maintenance: true },
    });
    expect(put.status).toBe(200);
    await expect.poll(() => reporter.last?.state).toBe('paused');
    expect(reporter.last?.pauseReason).toMatch(/maintenance mode.*"maintenance": false/);

    await ts.call('PUT', `/workers/${workerId}`, { apikey: owner.apiKey, body: { maintenance: false } });
    const requester = await ts.user('requester', 100);
    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a cat',
      models: ['Deliberate'],
      params: SMALL,
    });
    const status = await waitForStatus(ts, id);
    expect(status.generations[0].worker_name).toBe('tired-gpu');
  });

  it("with someone else's worker name: says to pick another name or use the owner's key", async () => {
    const ts = await testServer();
    const first = await startImageWorker(ts, createDemoImageBackend({ model: 'Deliberate' }), {
      name: 'taken',
    });
    track(first.worker);
    await waitUntil(async () => (await ts.call('GET', '/workers')).body[0]);
    const second = await startImageWorker(ts, createDemoImageBackend({ model: 'Deliberate' }), {
      name: 'taken',
    });
    track(second.worker);
    await expect.poll(() => second.reporter.last?.state).toBe('paused');
    expect(second.reporter.last?.pauseReason).toMatch(
      /"taken" belongs to another account.*Choose another WORKER_NAME, or use the API key/,
    );
  });

  it('summarises why empty pops skipped the waiting requests', async () => {
    const ts = await testServer();
    const requester = await ts.user('requester', 1000);
    await requestImage(ts, requester.apiKey, { prompt: 'a cat', models: ['Deliberate'], params: SMALL });
    await requestImage(ts, requester.apiKey, {
      prompt: 'a dog',
      models: ['stable_diffusion'],
      params: { ...SMALL, loras: [{ name: '12345' }] },
    });
    const { worker, reporter } = await startImageWorker(
      ts,
      createDemoImageBackend({ model: 'stable_diffusion' }),
      {
        name: 'picky',
      },
    );
    track(worker);
    await expect.poll(() => reporter.last?.skipped).toMatch(/^2 requests skipped: |^1 request skipped: /);
    expect(reporter.last?.skipped).toMatch(/need LoRA support|model not loaded/);
  });
});

/** Generation rewards the owner received (journal entries), to prove a result was paid once. */
async function rewardsOf(ts: TestServer, accountId: number): Promise<number> {
  const journal = await ts.horde.store.readJournal();
  return journal.filter((entry) => entry.accountId === accountId && entry.kind === 'reward').length;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
