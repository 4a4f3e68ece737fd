/**
 * `threads` and `amount` as a worker owner sets them: several jobs in flight at once, each delivered once,
 * and a drain that waits for all of them.
 */
import { createDemoImageBackend } from '@hordekit/worker';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { expectConsistentLedger } from '../support/ledger-check.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { requestImage, startImageWorker, waitForStatus } from '../support/worker-harness.js';

let ts: TestServer;
beforeEach(async () => {
  ts = await startTestServer();
});
afterEach(async () => {
  await ts.close();
});

it('runs up to `threads` jobs at once, delivers each once, and stop() waits for all of them', async () => {
  const requester = await ts.user('requester', 1000);
  // 20 steps × 40 ms: each job takes about 0.8 s, long enough to overlap.
  const { worker, reporter } = await startImageWorker(
    ts,
    createDemoImageBackend({ model: 'Deliberate', stepDelayMs: 40 }),
    { name: 'three-threads', threads: 3 },
  );
  const ids = [];
  for (let index = 0; index < 5; index += 1) {
    ids.push(
      await requestImage(ts, requester.apiKey, {
        prompt: `request ${index}`,
        models: ['Deliberate'],
        params: { width: 512, height: 512, steps: 20 },
      }),
    );
  }
  let most = 0;
  const watch = setInterval(() => {
    most = Math.max(most, reporter.last?.inFlight.length ?? 0);
  }, 10);
  try {
    await expect.poll(() => reporter.last?.inFlight.length ?? 0, { timeout: 5000 }).toBe(3);
    await worker.stop();
  } finally {
    clearInterval(watch);
  }
  expect(most).toBe(3);
  // Stopping let the three in flight finish; the other two were never popped.
  expect(reporter.last).toMatchObject({ state: 'stopped', done: 3, inFlight: [] });
  const finished = [];
  for (const id of ids) {
    const check = await ts.call('GET', `/generate/check/${id}`);
    if (check.body.done) finished.push((await waitForStatus(ts, id)).generations.length);
  }
  expect(finished).toEqual([1, 1, 1]);
  await expectConsistentLedger(ts.horde.store);
});
