/**
 * The community horde killed with SIGKILL under load and started again on the same data directory: what
 * it acknowledged over HTTP survives (accepted requests, submitted images and their bytes), the queue
 * carries on serving, a SIGTERM then stops it cleanly, and the kudos books balance.
 *
 * Jobs leased before the kill keep their lease after the restart: the app has no setting for the job TTL
 * (150 s at least, `jobs.minTtlSeconds`), so the test serves every job that was not leased and accepts a
 * request still `processing` only for as many jobs as were popped, and not submitted, before the kill.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, buildApp, startApp, stopApp } from '../support/app-process.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import {
  call,
  emptyLog,
  type LoadLog,
  POP_AMOUNT,
  runRequesters,
  runWorkers,
  type WorkerIdentity,
  workOnce,
} from '../support/restart-load.js';

const LOAD_MS = 2500;
const DRAIN_TIMEOUT_MS = 30_000;

const directory = mkdtempSync(join(tmpdir(), 'hordekit-restart-'));
const running: AppProcess[] = [];

beforeAll(() => buildApp(), 180_000);
afterAll(async () => {
  for (const app of running) await stopApp(app.child, 'SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

async function launch(): Promise<AppProcess> {
  const app = await startApp(directory);
  running.push(app);
  return app;
}

async function testUser(
  api: string,
  username: string,
  kudos: number,
): Promise<{ id: string; apikey: string }> {
  const created = await call(api, 'POST', '/dev/test-user', {
    body: { username, oauth_id: `oauth_${username}`, kudos, trusted: false },
  });
  expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
  return { id: String(created.body.user_id), apikey: created.body.api_key };
}

/** Jobs of each accepted request popped before the kill and never acknowledged as submitted. */
function leasedAtKill(log: LoadLog): Map<string, number> {
  const requestOfPrompt = new Map([...log.accepted].map(([id, { prompt }]) => [prompt, id]));
  const leased = new Map<string, number>();
  for (const [jobId, prompt] of log.popped) {
    const requestId = requestOfPrompt.get(prompt);
    if (requestId && !log.submitted.has(jobId)) leased.set(requestId, (leased.get(requestId) ?? 0) + 1);
  }
  return leased;
}

describe('SIGKILL under load, restart on the same data directory', () => {
  it('keeps what it acknowledged, serves the rest and balances its books', async () => {
    // --- load, then SIGKILL in the middle of it ------------------------------------------------------
    const first = await launch();
    const requesters = await Promise.all(
      [0, 1, 2, 3].map((i) => testUser(first.api, `restart_requester_${i}`, 10_000)),
    );
    const owners = await Promise.all([0, 1].map((i) => testUser(first.api, `restart_owner_${i}`, 0)));
    const workers: WorkerIdentity[] = owners.map((owner, i) => ({
      name: `restart-worker-${i}`,
      apikey: owner.apikey,
    }));
    const log = emptyLog();
    const workerErrors: string[] = [];
    const requesting = runRequesters(
      first.api,
      requesters.map((r) => r.apikey),
      log,
      'before',
    );
    const working = runWorkers(first.api, workers, log, workerErrors);
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    const killed = await stopApp(first.child, 'SIGKILL');
    expect(killed?.signal).toBe('SIGKILL');
    await Promise.all([requesting.stop(), working.stop()]);
    expect(workerErrors, 'refusals from the live server').toEqual([]);
    expect(log.accepted.size, 'requests accepted before the kill').toBeGreaterThan(20);
    expect(log.submitted.size, 'jobs submitted before the kill').toBeGreaterThan(10);
    const leased = leasedAtKill(log);

    // --- restart: everything acknowledged is there ----------------------------------------------------
    const second = await launch();
    const requestOfPrompt = new Map([...log.accepted].map(([id, { prompt }]) => [prompt, id]));
    const statuses = new Map<string, { generations?: { id: string; img: string }[] }>();
    const missing: string[] = [];
    for (const id of log.accepted.keys()) {
      const status = await call(second.api, 'GET', `/generate/status/${id}`);
      if (status.status === 200) statuses.set(id, status.body);
      else missing.push(`${id} → ${status.status} ${JSON.stringify(status.body)}`);
    }
    expect(missing, 'accepted requests not found after the restart').toEqual([]);

    const lost: string[] = [];
    const wrongBytes: string[] = [];
    let unattributed = 0;
    for (const jobId of log.submitted) {
      const requestId = requestOfPrompt.get(log.popped.get(jobId)!);
      if (!requestId) {
        // Its request was committed but the 202 was cut off by the kill: nothing to look it up by.
        unattributed++;
        continue;
      }
      const generation = statuses.get(requestId)?.generations?.find((g) => g.id === jobId);
      if (!generation) {
        lost.push(`${jobId} of ${requestId}`);
        continue;
      }
      const image = await fetch(generation.img);
      const bytes = Buffer.from(await image.arrayBuffer());
      if (image.status !== 200 || !bytes.equals(log.uploaded.get(jobId)!)) {
        wrongBytes.push(`${jobId}: ${image.status}, ${bytes.length} bytes`);
      }
    }
    expect(lost, 'submitted jobs missing from their request').toEqual([]);
    expect(wrongBytes, 'images that do not download as uploaded').toEqual([]);
    expect(unattributed, 'submitted jobs whose request id never reached us').toBeLessThanOrEqual(4);

    // --- the queue carries on: serve until only the jobs leased before the kill are left --------------
    const after = emptyLog();
    // A pop in flight at the kill may have leased jobs whose answer never reached the worker: at most one
    // pop per worker, `amount` jobs each, beyond the leases the log knows of.
    const unloggedLeaseAllowance = workers.length * POP_AMOUNT;
    let unloggedLeases = 0;
    const unfinished = async () => {
      const open: string[] = [];
      unloggedLeases = 0;
      for (const [id, { n }] of log.accepted) {
        const check = (await call(second.api, 'GET', `/generate/check/${id}`)).body;
        if (check.done) continue;
        const waitingForLease = check.waiting === 0 && check.finished + check.processing === n;
        if (!waitingForLease) open.push(`${id}: ${JSON.stringify(check)}`);
        else unloggedLeases += Math.max(0, check.processing - (leased.get(id) ?? 0));
      }
      return open;
    };
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let open = await unfinished();
    while (open.length > 0 && Date.now() < deadline) {
      let served = 0;
      for (const worker of workers) served += await workOnce(second.api, worker, after);
      if (served === 0) open = await unfinished();
    }
    expect(open, 'requests neither done nor waiting only for a pre-kill lease').toEqual([]);
    expect(unloggedLeases, 'leases the log does not know of (pops cut off by the kill)').toBeLessThanOrEqual(
      unloggedLeaseAllowance,
    );
    const reissued = [...after.popped.keys()].filter((id) => log.popped.has(id));
    expect(reissued, 'jobs leased before the kill handed out again within their TTL').toEqual([]);
    expect(after.poppedTwice).toEqual([]);
    for (const [id, { n }] of log.accepted) {
      const status = (await call(second.api, 'GET', `/generate/status/${id}`)).body;
      expect(status.generations.length, `generations of ${id}`).toBe(status.finished);
      expect(status.finished + status.processing, `jobs of ${id}`).toBe(n);
    }

    // --- SIGTERM stops it cleanly; the data balances ------------------------------------------------
    const stopped = await stopApp(second.child, 'SIGTERM', 10_000);
    expect(stopped, `SIGTERM exit:\n${second.output()}`).toEqual({ code: 0, signal: null });

    const store = await createSqliteStore({ path: join(directory, 'horde.db') });
    try {
      for (const jobId of [...log.submitted, ...after.submitted]) {
        expect((await store.getJob(jobId))?.state, `submitted job ${jobId}`).toBe('done');
      }
      for (const id of log.accepted.keys()) expect(await store.getRequest(id), `request ${id}`).toBeDefined();
      await expectConsistentLedger(store);
    } finally {
      await store.close();
    }
  }, 120_000);
});
