/** Settling and failing jobs. */
import { describe, expect, it } from 'vitest';
import {
  expectActiveJobsConsistent,
  expectLedgerConsistent,
  lastJournalId,
  movements,
} from './assertions.js';
import {
  candidateIds,
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  fail,
  getAccount,
  getRequest,
  imageQuery,
  imageRequest,
  MINUTE,
  RESULT,
  T0,
} from './fixtures.js';
import type { Harness } from './harness.js';

export function jobCases(h: Harness): void {
  describe('completeJob', () => {
    it('settles: counters, consumed, requester debit, owner reward and escrow, worker stats, done', async () => {
      const requester = await createAccount(h.store, { balance: 1000 });
      const owner = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: owner.id });
      const request = await enqueue(h.store, imageRequest(requester.id, { jobs: 2 }), {
        tax: 50,
        reserve: 200,
      });
      const [j1, j2] = await claim(h.store, request.id, worker, { count: 2 });
      const now = T0 + 2 * MINUTE;
      const first = await complete(h.store, j1!, {
        cost: 300,
        reward: 250,
        escrow: 50,
        speedSample: 4,
        retainUntil: T0 + 60 * MINUTE,
        now,
      });
      if (first.outcome !== 'settled') throw new Error(`expected settled, got ${first.outcome}`);
      expect(first.job).toEqual({
        ...j1,
        state: 'done',
        result: RESULT,
        completedAt: now,
        reward: 300,
        cost: 300,
      });
      expect(first.request).toEqual(await getRequest(h.store, request.id));
      expect(first.request).toMatchObject({
        waiting: 0,
        processing: 1,
        finished: 1,
        consumed: 350,
        state: 'active',
        reserved: 200,
      });
      expect(first.request.expiresAt).toBeGreaterThanOrEqual(T0 + 60 * MINUTE);
      expect(await h.store.getJob(j1!.id)).toEqual(first.job);
      expect(await getAccount(h.store, requester.id)).toMatchObject({
        balance: 650,
        reserved: 200,
        activeJobs: 1,
      });
      expect(await getAccount(h.store, owner.id)).toMatchObject({ balance: 250, escrow: 50 });
      expect((await movements(h.store, requester.id)).at(-1)).toEqual({
        kind: 'generation',
        balanceDelta: -300,
        escrowDelta: 0,
        bucket: 'accumulated',
      });
      expect(await movements(h.store, owner.id)).toEqual([
        { kind: 'reward', balanceDelta: 250, escrowDelta: 50, bucket: 'accumulated' },
      ]);
      expect(await h.store.getWorker(worker.id)).toMatchObject({
        speedSamples: [4],
        stats: {
          requestsFulfilled: 1,
          kudosGenerated: 300,
          thingsGenerated: request.things,
          uncompletedJobs: 0,
        },
      });

      const last = await complete(h.store, j2!, { cost: 300, reward: 300, now: now + 1 });
      expect(last.outcome).toBe('settled');
      expect(await getRequest(h.store, request.id)).toMatchObject({
        state: 'done',
        processing: 0,
        finished: 2,
        consumed: 650,
        reserved: 0,
      });
      expect(await getAccount(h.store, requester.id)).toMatchObject({
        balance: 350,
        reserved: 0,
        activeJobs: 0,
      });
      expect((await getRequest(h.store, request.id)).expiresAt).toBeGreaterThanOrEqual(T0 + 60 * MINUTE);
      await expectLedgerConsistent(h.store);
    });

    it('stops the requester debit at the floor with a floor row', async () => {
      const requester = await createAccount(h.store, { balance: 100 });
      const worker = await checkIn(h.store, { ownerId: (await createAccount(h.store)).id });
      const request = await enqueue(h.store, imageRequest(requester.id));
      const [job] = await claim(h.store, request.id, worker);
      const from = await lastJournalId(h.store);
      await complete(h.store, job!, { cost: 300, requesterFloor: -50 });
      expect((await getAccount(h.store, requester.id)).balance).toBe(-50);
      expect(await movements(h.store, requester.id, from)).toEqual([
        { kind: 'generation', balanceDelta: -300, escrowDelta: 0, bucket: 'accumulated' },
        { kind: 'floor', balanceDelta: 150, escrowDelta: 0, bucket: null },
      ]);
      await expectLedgerConsistent(h.store);
    });

    it('keeps the last speedSamples samples, oldest first', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 4 }));
      const jobs = await claim(h.store, request.id, worker, { count: 4 });
      for (const [i, sample] of [1, 2, null, 3].entries())
        await complete(h.store, jobs[i]!, { speedSample: sample, speedSamples: 2, now: T0 + i });
      expect((await h.store.getWorker(worker.id))?.speedSamples).toEqual([2, 3]);
    });

    it('keeps no speed sample when speedSamples is 0', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id));
      const [job] = await claim(h.store, request.id, worker);
      await complete(h.store, job!, { speedSample: 5, speedSamples: 0 });
      expect((await h.store.getWorker(worker.id))?.speedSamples).toEqual([]);
    });

    it('answers duplicate, wrong-worker, aborted and unknown without moving anything', async () => {
      const requester = await createAccount(h.store, { balance: 1000 });
      const owner = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: owner.id });
      const other = await checkIn(h.store, { ownerId: owner.id });
      const request = await enqueue(h.store, imageRequest(requester.id, { jobs: 3 }));
      const [done, foreign, failed] = await claim(h.store, request.id, worker, { count: 3 });
      const settled = await complete(h.store, done!, { cost: 100, reward: 100 });
      await fail(h.store, failed!.id, { reason: 'aborted' });
      const journal = await h.store.readJournal();
      const accounts = [await getAccount(h.store, requester.id), await getAccount(h.store, owner.id)];
      const before = await getRequest(h.store, request.id);

      const duplicate = await complete(h.store, done!, { cost: 100, reward: 100 });
      expect(duplicate).toEqual({
        outcome: 'duplicate',
        job: settled.outcome === 'settled' ? settled.job : null,
      });
      const wrong = await complete(h.store, foreign!, { workerId: other.id, cost: 100, reward: 100 });
      expect(wrong).toEqual({ outcome: 'wrong-worker', job: foreign });
      const aborted = await complete(h.store, failed!, { cost: 100, reward: 100 });
      expect(aborted.outcome).toBe('aborted');
      expect(aborted.outcome === 'aborted' && aborted.job).toMatchObject({
        id: failed!.id,
        state: 'aborted',
      });
      expect(
        await complete(h.store, { id: 'c0c0c0c0-0000-4000-8000-000000000000', workerId: worker.id }),
      ).toEqual({
        outcome: 'unknown',
      });

      expect(await h.store.readJournal()).toEqual(journal);
      expect([await getAccount(h.store, requester.id), await getAccount(h.store, owner.id)]).toEqual(
        accounts,
      );
      expect(await getRequest(h.store, request.id)).toEqual(before);
      expect(await h.store.getJob(foreign!.id)).toEqual(foreign);
    });

    it('settles when the requester owns the worker', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id));
      const [job] = await claim(h.store, request.id, worker);
      await complete(h.store, job!, { cost: 300, reward: 200, escrow: 100 });
      expect(await getAccount(h.store, a.id)).toMatchObject({ balance: 900, escrow: 100, activeJobs: 0 });
      await expectLedgerConsistent(h.store);
      await expectActiveJobsConsistent(h.store, [request.id]);
    });
  });

  describe('failJob', () => {
    it('re-queues the job until the failures reach faultAfter, then faults the request', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 3 }), { reserve: 500 });
      const [first] = await claim(h.store, request.id, worker);
      const requeued = await fail(h.store, first!.id, { faultAfter: 2, now: T0 + 5 });
      expect(requeued).toMatchObject({
        job: { ...first, state: 'faulted', completedAt: T0 + 5 },
        request: { waiting: 3, processing: 0, faults: 1, state: 'active', reserved: 500 },
        requestFaulted: false,
      });
      expect(await h.store.getJob(first!.id)).toMatchObject({ state: 'faulted' });
      expect(await candidateIds(h.store, imageQuery())).toEqual([request.id]);
      await expectActiveJobsConsistent(h.store, [request.id]);

      const [second, third] = await claim(h.store, request.id, worker, { count: 2 });
      const faulted = await fail(h.store, second!.id, { faultAfter: 2, now: T0 + 6 });
      expect(faulted?.requestFaulted).toBe(true);
      expect(faulted?.request).toMatchObject({
        state: 'faulted',
        waiting: 0,
        processing: 1,
        faults: 2,
        reserved: 0,
      });
      expect(await getRequest(h.store, request.id)).toEqual(faulted?.request);
      expect(await getAccount(h.store, a.id)).toMatchObject({ reserved: 0, activeJobs: 1 });
      expect(await candidateIds(h.store, imageQuery())).toEqual([]);
      expect(await claim(h.store, request.id, worker)).toEqual([]);
      // The job still in flight settles, the request stays faulted.
      expect((await complete(h.store, third!)).outcome).toBe('settled');
      expect(await getRequest(h.store, request.id)).toMatchObject({
        state: 'faulted',
        processing: 0,
        finished: 1,
      });
      await expectActiveJobsConsistent(h.store, [request.id]);
    });

    it('counts uncompleted jobs, and recent aborts only for aborted jobs, within the window', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id));
      const window = 10 * MINUTE;
      const failOnce = async (reason: 'faulted' | 'aborted', now: number) => {
        const [job] = await claim(h.store, request.id, worker, { now });
        return fail(h.store, job!.id, { reason, now, faultAfter: 100, abortWindowMs: window });
      };
      expect((await failOnce('aborted', T0))?.workerRecentAborts).toBe(1);
      expect((await failOnce('faulted', T0 + MINUTE))?.workerRecentAborts).toBe(1);
      expect((await failOnce('aborted', T0 + 5 * MINUTE))?.workerRecentAborts).toBe(2);
      expect((await failOnce('aborted', T0 + 12 * MINUTE))?.workerRecentAborts).toBe(2);
      const stored = await h.store.getWorker(worker.id);
      expect(stored?.recentAborts).toEqual([T0 + 5 * MINUTE, T0 + 12 * MINUTE]);
      expect(stored?.stats.uncompletedJobs).toBe(4);
    });

    it('returns undefined for a job that is not processing', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 2 }));
      const [done, failed] = await claim(h.store, request.id, worker, { count: 2 });
      await complete(h.store, done!);
      await fail(h.store, failed!.id);
      const before = await getRequest(h.store, request.id);
      expect(await fail(h.store, done!.id)).toBeUndefined();
      expect(await fail(h.store, failed!.id)).toBeUndefined();
      expect(await fail(h.store, 'd0d0d0d0-0000-4000-8000-000000000000')).toBeUndefined();
      expect(await getRequest(h.store, request.id)).toEqual(before);
    });
  });
}
