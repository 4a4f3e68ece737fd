/**
 * Crash safety of the SQLite driver: a workload (`support/crash-workload.ts`) runs against a database
 * file, is killed with SIGKILL at a random moment, and is started again on the same file, several times.
 * Then the database is opened in-process and must hold everything the workload was told had happened,
 * with the ledger and the queue consistent, and every request must still come to an end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHorde, type RequestState } from '@hordekit/core';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { FakeClock } from '@hordekit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { readCrashLog } from './support/crash-log.js';
import { expectConsistentLedger } from './support/ledger-check.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKLOAD = 'test/support/crash-workload.ts';
const RESTARTS = 8;
const FINAL: ReadonlySet<RequestState> = new Set(['done', 'faulted', 'cancelled', 'expired']);

const directory = mkdtempSync(join(tmpdir(), 'hordekit-crash-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Starts the workload and resolves once it has opened the database and begun its loop. */
async function startWorkload(
  database: string,
  seed: number,
): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@hordekit/source', WORKLOAD, database, String(seed)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the workload was not ready in 15 s:\n${stderr}`)),
        15_000,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        if (!chunk.toString().includes('ready')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the workload exited (${code}) before it was ready:\n${stderr}`));
      });
    });
  } catch (error) {
    await kill(child);
    throw error;
  }
  return { child, stderr: () => stderr };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety (SIGKILL and restart on the same SQLite file)', () => {
  it('keeps every acknowledged operation and a consistent ledger and queue', async () => {
    const database = join(directory, 'horde.db');
    for (let run = 0; run < RESTARTS; run++) {
      const { child, stderr } = await startWorkload(database, 1000 + run);
      try {
        await sleep(300 + Math.random() * 1200);
        expect(child.exitCode, `the workload died on its own:\n${stderr()}`).toBeNull();
      } finally {
        await kill(child);
      }
      expect(child.signalCode).toBe('SIGKILL');
    }

    const log = readCrashLog(database);
    expect(log.accepted.size, 'the workload accepted requests').toBeGreaterThan(50);
    expect(log.submitted.size, 'the workload settled jobs').toBeGreaterThan(50);
    expect(log.poppedTwice, 'job ids handed out twice').toEqual([]);

    const store = await createSqliteStore({ path: database });
    try {
      // Everything the engine acknowledged is there.
      const missing: string[] = [];
      for (const id of log.accepted.keys()) if (!(await store.getRequest(id))) missing.push(id);
      expect(missing, 'accepted requests missing after the crashes').toEqual([]);
      for (const [jobId, requestId] of log.popped) {
        const job = await store.getJob(jobId);
        expect(job?.requestId, `popped job ${jobId}`).toBe(requestId);
      }
      for (const [jobId, outcome] of log.submitted) {
        const job = await store.getJob(jobId);
        expect(job?.state, `submitted job ${jobId}`).toBe(outcome === 'ok' ? 'done' : 'faulted');
      }
      for (const id of log.cancelled) {
        expect((await store.getRequest(id))?.state, `cancelled request ${id}`).not.toBe('active');
      }
      const transfers = new Set(
        (store.database.prepare('SELECT id FROM transfers').all() as { id: number }[]).map((row) => row.id),
      );
      expect(
        [...log.transfers].filter((id) => !transfers.has(id)),
        'acknowledged transfers missing',
      ).toEqual([]);
      for (const id of log.granted) expect((await store.getAccount(id))?.details.admin).toBeGreaterThan(0);

      // The ledger balances and replays.
      await expectConsistentLedger(store);

      // The queue agrees with its jobs and with the accounts: every request in the file counts, logged or not
      // (a kill can land between a commit and its log line).
      const all = (store.database.prepare('SELECT id FROM requests').all() as { id: string }[]).map(
        (r) => r.id,
      );
      expect(all.length).toBeGreaterThanOrEqual(log.accepted.size);
      const claimed = new Map<string, number>();
      for (const requestId of log.popped.values()) claimed.set(requestId, (claimed.get(requestId) ?? 0) + 1);
      const active = new Map<number, number>();
      const reserved = new Map<number, number>();
      for (const id of all) {
        const request = (await store.getRequest(id))!;
        const jobs = await store.listRequestJobs(id);
        const processing = jobs.filter((job) => job.state === 'processing').length;
        const done = jobs.filter((job) => job.state === 'done').length;
        const failed = jobs.filter((job) => job.state === 'faulted' || job.state === 'aborted').length;
        expect({ id, processing, done, failed }).toEqual({
          id,
          processing: request.processing,
          done: request.finished,
          failed: request.faults,
        });
        expect(processing + done, `jobs of ${id} in flight or done`).toBeLessThanOrEqual(request.jobs);
        const asked = log.accepted.get(id);
        if (asked !== undefined) {
          expect(claimed.get(id) ?? 0, `jobs of ${id} handed out`).toBeLessThanOrEqual(
            asked + request.faults,
          );
        }
        if (request.state === 'active') {
          expect(request.waiting + processing + done, `counters of ${id}`).toBe(request.jobs);
        }
        if (request.state === 'expired') continue;
        active.set(
          request.accountId,
          (active.get(request.accountId) ?? 0) + request.waiting + request.processing,
        );
        reserved.set(request.accountId, (reserved.get(request.accountId) ?? 0) + request.reserved);
      }
      for (const account of await store.listAccounts({ offset: 0, limit: 1000, sort: 'age' })) {
        expect([account.id, account.activeJobs], 'activeJobs').toEqual([
          account.id,
          active.get(account.id) ?? 0,
        ]);
        expect([account.id, account.reserved], 'reserved').toEqual([
          account.id,
          reserved.get(account.id) ?? 0,
        ]);
      }

      // Two hours later every lease and expiry has passed: every request ends, none is lost.
      const horde = await createHorde({ store, clock: new FakeClock(Date.now() + 2 * 60 * 60_000) });
      await horde.sweep();
      for (const id of all) {
        const state = (await store.getRequest(id))?.state;
        expect(state && FINAL.has(state), `request ${id} ended ${state}`).toBe(true);
      }
      for (const account of await store.listAccounts({ offset: 0, limit: 1000, sort: 'age' })) {
        expect([account.id, account.activeJobs, account.reserved]).toEqual([account.id, 0, 0]);
      }
      await expectConsistentLedger(store);
    } finally {
      await store.close();
    }
  }, 60_000);
});
