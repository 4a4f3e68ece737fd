/** Stale leases, cancellation, expiry, and the account's active-job count through all of them. */
import { describe, expect, it } from 'vitest';
import { expectActiveJobsConsistent, expectLedgerConsistent } from './assertions.js';
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
  T0,
  textQuery,
  textRequest,
} from './fixtures.js';
import type { Harness } from './harness.js';

export function lifecycleCases(h: Harness): void {
  describe('listExpiredLeases', () => {
    it('lists processing jobs whose lease ended at or before now, up to the limit', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 4 }));
      const [early] = await claim(h.store, request.id, worker, { now: T0, leaseMs: 100 });
      const [late] = await claim(h.store, request.id, worker, { now: T0, leaseMs: 200 });
      const [settled] = await claim(h.store, request.id, worker, { now: T0, leaseMs: 50 });
      const [failed] = await claim(h.store, request.id, worker, { now: T0, leaseMs: 50 });
      await complete(h.store, settled!);
      await fail(h.store, failed!.id);
      const ids = async (now: number, limit = 10) =>
        (await h.store.listExpiredLeases(now, limit)).map((j) => j.id);
      expect(await ids(T0 + 99)).toEqual([]);
      expect(await ids(T0 + 150)).toEqual([early!.id]);
      expect((await ids(T0 + 200)).sort()).toEqual([early!.id, late!.id].sort());
      expect(await ids(T0 + 200, 1)).toHaveLength(1);
      expect((await h.store.listExpiredLeases(T0 + 150, 10))[0]).toEqual(early);
    });

    it('returns nothing for a limit of 0', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id));
      await claim(h.store, request.id, worker, { now: T0, leaseMs: 100 });
      expect(await h.store.listExpiredLeases(T0 + 100, 0)).toEqual([]);
    });
  });

  describe('cancelRequest', () => {
    it('stops handing out jobs, returns the record before, and lets jobs in flight settle', async () => {
      const a = await createAccount(h.store, { balance: 2000 });
      const owner = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: owner.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 3 }), { reserve: 500 });
      const [inFlight] = await claim(h.store, request.id, worker);
      const before = await getRequest(h.store, request.id);
      const returned = await h.store.cancelRequest(request.id, T0 + MINUTE);
      expect(returned).toEqual(before);
      const after = await getRequest(h.store, request.id);
      expect(after).toMatchObject({ state: 'cancelled', waiting: 0, processing: 1, reserved: 0 });
      expect(await getAccount(h.store, a.id)).toMatchObject({ reserved: 0, activeJobs: 1 });
      expect(await candidateIds(h.store, imageQuery())).toEqual([]);
      expect(await h.store.queuePosition(request.id)).toEqual({ position: 0, thingsAhead: 0, jobsAhead: 0 });
      expect(await claim(h.store, request.id, worker)).toEqual([]);
      expect(await h.store.listAccountRequests(a.id)).toEqual([]);

      const settled = await complete(h.store, inFlight!, { cost: 300, reward: 300 });
      expect(settled.outcome).toBe('settled');
      expect(await getRequest(h.store, request.id)).toMatchObject({
        state: 'cancelled',
        processing: 0,
        finished: 1,
      });
      expect(await getAccount(h.store, a.id)).toMatchObject({ balance: 1700, activeJobs: 0 });
      expect((await getAccount(h.store, owner.id)).balance).toBe(300);
      expect(await h.store.cancelRequest('e0e0e0e0-0000-4000-8000-000000000000', T0)).toBeUndefined();
      // Cancelling again (or a finished request) changes nothing and returns the record as it is.
      const ended = await getRequest(h.store, request.id);
      expect(await h.store.cancelRequest(request.id, T0 + 2 * MINUTE)).toEqual(ended);
      expect(await getRequest(h.store, request.id)).toEqual(ended);
      await expectActiveJobsConsistent(h.store, [request.id]);
      await expectLedgerConsistent(h.store);
    });
  });

  describe('expireRequests', () => {
    it('expires requests past their expiry with no job in flight, dropping their jobs', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const worker = await checkIn(h.store, { ownerId: a.id });
      const stale = await enqueue(h.store, imageRequest(a.id, { jobs: 2, expiresAt: T0 + MINUTE }), {
        reserve: 100,
      });
      const [finishedJob] = await claim(h.store, stale.id, worker);
      await complete(h.store, finishedJob!, { retainUntil: T0, now: T0 + 10 });
      const busy = await enqueue(h.store, imageRequest(a.id, { expiresAt: T0 + MINUTE }));
      const [busyJob] = await claim(h.store, busy.id, worker);
      const fresh = await enqueue(h.store, textRequest(a.id, { expiresAt: T0 + 60 * MINUTE }));
      const ids = [stale.id, busy.id, fresh.id];

      const expired = await h.store.expireRequests(T0 + 2 * MINUTE, 100);
      expect(expired.map((r) => r.id)).toEqual([stale.id]);
      expect(expired[0]).toMatchObject({ state: 'expired', waiting: 0, processing: 0, finished: 1 });
      expect(await getRequest(h.store, stale.id)).toMatchObject({
        state: 'expired',
        waiting: 0,
        reserved: 0,
      });
      expect(await h.store.listRequestJobs(stale.id)).toEqual([]);
      expect(await h.store.getJob(finishedJob!.id)).toBeUndefined();
      expect(await getAccount(h.store, a.id)).toMatchObject({ reserved: 0, activeJobs: 2 });
      expect((await h.store.listAccountRequests(a.id)).map((r) => r.id)).toEqual([fresh.id, busy.id]);
      expect(await candidateIds(h.store, imageQuery())).toEqual([]);
      expect(await candidateIds(h.store, textQuery())).toEqual([fresh.id]);
      expect(await h.store.expireRequests(T0 + 2 * MINUTE, 100)).toEqual([]);
      await expectActiveJobsConsistent(h.store, ids);

      // Once the job in flight is settled, the request expires too.
      await complete(h.store, busyJob!, { retainUntil: T0, now: T0 + 2 * MINUTE });
      expect((await h.store.expireRequests(T0 + 3 * MINUTE, 100)).map((r) => r.id)).toEqual([busy.id]);
      expect(await complete(h.store, busyJob!)).toEqual({ outcome: 'unknown' });
      await expectActiveJobsConsistent(h.store, ids);
      await expectLedgerConsistent(h.store);
    });

    it('expires at most limit requests per call', async () => {
      const a = await createAccount(h.store);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await enqueue(h.store, imageRequest(a.id, { expiresAt: T0 + i }))).id);
      expect(await h.store.expireRequests(T0 + MINUTE, 2)).toHaveLength(2);
      expect(await h.store.expireRequests(T0 + MINUTE, 2)).toHaveLength(1);
      expect((await getAccount(h.store, a.id)).activeJobs).toBe(0);
      await expectActiveJobsConsistent(h.store, ids);
    });
  });

  describe('activeJobs', () => {
    it('equals Σ (waiting + processing) of the live requests after every operation', async () => {
      const a = await createAccount(h.store, { balance: 10_000 });
      const b = await createAccount(h.store, { balance: 10_000 });
      const worker = await checkIn(h.store, { ownerId: b.id });
      const ids: string[] = [];
      const check = () => expectActiveJobsConsistent(h.store, ids);
      const add = async (accountId: number, jobs: number, expiresAt = T0 + 30 * MINUTE) => {
        const r = await enqueue(h.store, imageRequest(accountId, { jobs, expiresAt }));
        ids.push(r.id);
        await check();
        return r;
      };
      const r1 = await add(a.id, 4);
      const r2 = await add(a.id, 2, T0 + MINUTE);
      const r3 = await add(b.id, 3);
      const r1Jobs = await claim(h.store, r1.id, worker, { count: 3 });
      await check();
      await complete(h.store, (await claim(h.store, r1.id, worker))[0]!);
      await check();
      await complete(h.store, r1Jobs[0]!);
      await check();
      await fail(h.store, r1Jobs[1]!.id, { reason: 'aborted' });
      await check();
      await h.store.cancelRequest(r1.id, T0 + 2);
      await check();
      await fail(h.store, r1Jobs[2]!.id, { reason: 'aborted' });
      await check();
      expect(await getRequest(h.store, r1.id)).toMatchObject({
        state: 'cancelled',
        waiting: 0,
        processing: 0,
      });
      const [r3Job] = await claim(h.store, r3.id, worker);
      await fail(h.store, r3Job!.id, { faultAfter: 1 });
      await check();
      await h.store.expireRequests(T0 + 2 * MINUTE, 100);
      await check();
      expect(await getAccount(h.store, a.id)).toMatchObject({ activeJobs: 0 });
      expect(await getAccount(h.store, b.id)).toMatchObject({ activeJobs: 0 });
      expect((await getRequest(h.store, r2.id)).state).toBe('expired');
    });
  });
}
