/** Enqueueing (tax, priority, limits, reservations) and claiming jobs. */
import { describe, expect, it } from 'vitest';
import { expectActiveJobsConsistent, expectLedgerConsistent, expectRc, movements } from './assertions.js';
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
  textRequest,
} from './fixtures.js';
import type { Harness } from './harness.js';

export function requestCases(h: Harness): void {
  describe('enqueueRequest', () => {
    it('stores the request as active and waiting, with increasing seq', async () => {
      const a = await createAccount(h.store, { balance: 5000 });
      const input = imageRequest(a.id, { jobs: 3, meta: { client: 'conformance:1' } });
      const request = await enqueue(h.store, input, { reserve: 400 });
      expect(request).toMatchObject({
        ...input,
        waiting: 3,
        processing: 0,
        finished: 0,
        faults: 0,
        state: 'active',
        reserved: 400,
      });
      expect(await h.store.getRequest(input.id)).toEqual(request);
      const text = await enqueue(h.store, textRequest(a.id));
      const third = await enqueue(h.store, imageRequest(a.id));
      expect(text.seq).toBeGreaterThan(request.seq);
      expect(third.seq).toBeGreaterThan(text.seq);
      expect(await h.store.getRequest('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      expect((await h.store.listAccountRequests(a.id)).map((r) => r.id)).toEqual([
        third.id,
        text.id,
        request.id,
      ]);
    });

    it('burns the tax, stopped at the floor', async () => {
      const rich = await createAccount(h.store, { balance: 5000 });
      const paid = await enqueue(h.store, imageRequest(rich.id), { tax: 1000, floor: 0 });
      expect((await getAccount(h.store, rich.id)).balance).toBe(4000);
      expect(paid.consumed).toBe(1000);
      expect((await movements(h.store, rich.id)).slice(1)).toEqual([
        { kind: 'activation', balanceDelta: -1000, escrowDelta: 0, bucket: 'accumulated' },
      ]);
      // A fresh account at 0 with a floor of 25 kudos ends at the floor; the floor row mints the difference.
      const fresh = await createAccount(h.store);
      await enqueue(h.store, imageRequest(fresh.id), { tax: 1000, floor: 2500 });
      expect((await getAccount(h.store, fresh.id)).balance).toBe(2500);
      expect(await movements(h.store, fresh.id)).toEqual([
        { kind: 'activation', balanceDelta: -1000, escrowDelta: 0, bucket: 'accumulated' },
        { kind: 'floor', balanceDelta: 3500, escrowDelta: 0, bucket: null },
      ]);
      await expectLedgerConsistent(h.store);
    });

    it('sets priority to the balance before tax (in kudos) unless overridden, and ages the sort key', async () => {
      const a = await createAccount(h.store, { balance: 12_345 });
      const aging = { amount: 2, intervalMs: MINUTE };
      const createdAt = T0 + 90 * MINUTE + 5;
      const request = await enqueue(h.store, imageRequest(a.id, { createdAt }), { tax: 345, aging });
      expect(request.priority).toBeCloseTo(123.45, 9);
      expect(request.sortKey).toBeCloseTo(123.45 - 2 * Math.floor(createdAt / MINUTE), 6);
      const overridden = await enqueue(h.store, imageRequest(a.id, { createdAt }), {
        priorityOverride: -100,
        aging,
      });
      expect(overridden.priority).toBe(-100);
      expect(overridden.sortKey).toBeCloseTo(-100 - 2 * Math.floor(createdAt / MINUTE), 6);
      const later = await enqueue(h.store, imageRequest(a.id, { createdAt }));
      expect(later.priority).toBeCloseTo(120, 9);
      expect(later.sortKey).toBeCloseTo(120, 9);
    });

    it('refuses with TooManyPrompts when active jobs + jobs exceed the limit, charging nothing', async () => {
      const a = await createAccount(h.store, { balance: 5000 });
      const first = await enqueue(h.store, imageRequest(a.id, { jobs: 2 }), { concurrencyLimit: 3, tax: 10 });
      const journal = await h.store.readJournal();
      const before = await getAccount(h.store, a.id);
      const refused = imageRequest(a.id, { jobs: 2 });
      await expectRc(
        enqueue(h.store, refused, { concurrencyLimit: 3, tax: 10, reserve: 100 }),
        'TooManyPrompts',
      );
      expect(await h.store.getRequest(refused.id)).toBeUndefined();
      expect(await getAccount(h.store, a.id)).toEqual(before);
      expect(await h.store.readJournal()).toEqual(journal);
      expect(await candidateIds(h.store, imageQuery())).toEqual([first.id]);
      const fits = await enqueue(h.store, imageRequest(a.id, { jobs: 1 }), { concurrencyLimit: 3 });
      expect((await getAccount(h.store, a.id)).activeJobs).toBe(3);
      await expectActiveJobsConsistent(h.store, [first.id, fits.id]);
    });

    it('refuses with KudosUpfront when the reserve exceeds balance − reserved − floor, charging nothing', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const held = await enqueue(h.store, imageRequest(a.id), { reserve: 500, floor: 200, tax: 0 });
      expect(held.reserved).toBe(500);
      const before = await getAccount(h.store, a.id);
      expect(before).toMatchObject({ balance: 1000, reserved: 500 });
      const journal = await h.store.readJournal();
      const refused = imageRequest(a.id);
      await expectRc(enqueue(h.store, refused, { reserve: 301, floor: 200, tax: 50 }), 'KudosUpfront');
      expect(await h.store.getRequest(refused.id)).toBeUndefined();
      expect(await getAccount(h.store, a.id)).toEqual(before);
      expect(await h.store.readJournal()).toEqual(journal);
      await enqueue(h.store, imageRequest(a.id), { reserve: 300, floor: 200 });
      expect(await getAccount(h.store, a.id)).toMatchObject({ balance: 1000, reserved: 800 });
    });

    it('holds the reservation until the request ends (done, faulted, cancelled, expired)', async () => {
      const a = await createAccount(h.store, { balance: 10_000 });
      const owner = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: owner.id });
      const ids: string[] = [];
      const reserveOne = async (expiresAt = T0 + 20 * MINUTE) => {
        const r = await enqueue(h.store, imageRequest(a.id, { expiresAt }), { reserve: 1000 });
        ids.push(r.id);
        return r;
      };
      const done = await reserveOne();
      const faulted = await reserveOne();
      const cancelled = await reserveOne();
      const expired = await reserveOne(T0 + MINUTE);
      expect((await getAccount(h.store, a.id)).reserved).toBe(4000);

      const [job] = await claim(h.store, done.id, worker);
      await complete(h.store, job!, { cost: 100 });
      expect((await getRequest(h.store, done.id)).reserved).toBe(0);
      expect((await getAccount(h.store, a.id)).reserved).toBe(3000);

      const [doomed] = await claim(h.store, faulted.id, worker);
      await fail(h.store, doomed!.id, { faultAfter: 1 });
      expect((await getRequest(h.store, faulted.id)).reserved).toBe(0);
      expect((await getAccount(h.store, a.id)).reserved).toBe(2000);

      await h.store.cancelRequest(cancelled.id, T0 + MINUTE);
      expect((await getRequest(h.store, cancelled.id)).reserved).toBe(0);
      expect((await getAccount(h.store, a.id)).reserved).toBe(1000);

      expect((await h.store.expireRequests(T0 + 2 * MINUTE, 100)).map((r) => r.id)).toEqual([expired.id]);
      expect((await getRequest(h.store, expired.id)).reserved).toBe(0);
      expect(await getAccount(h.store, a.id)).toMatchObject({
        reserved: 0,
        balance: 10_000 - 100,
        activeJobs: 0,
      });
      await expectActiveJobsConsistent(h.store, ids);
      await expectLedgerConsistent(h.store);
    });
  });

  describe('claimJobs', () => {
    it('hands out min(count, waiting) jobs with a lease and extends the expiry', async () => {
      const a = await createAccount(h.store);
      const owner = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: owner.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 3, expiresAt: T0 + 10 * MINUTE }));
      const now = T0 + 8 * MINUTE;
      const ids = ['a0a0a0a0-0000-4000-8000-000000000001', 'a0a0a0a0-0000-4000-8000-000000000002'];
      const jobs = await claim(h.store, request.id, worker, {
        ids,
        now,
        leaseMs: 150_000,
        extendExpiryMs: 5 * MINUTE,
      });
      expect(jobs).toEqual(
        ids.map((id, batchIndex) => ({
          id,
          requestId: request.id,
          kind: 'image',
          workerId: worker.id,
          workerOwnerId: owner.id,
          model: 'stable_diffusion',
          seed: String(1000 + batchIndex),
          batchIndex,
          state: 'processing',
          createdAt: now,
          leaseExpiresAt: now + 150_000,
          things: request.things,
          result: null,
          completedAt: null,
          reward: 0,
          cost: 0,
        })),
      );
      const after = await getRequest(h.store, request.id);
      expect(after).toMatchObject({ waiting: 1, processing: 2, state: 'active' });
      expect(after.expiresAt).toBeGreaterThanOrEqual(now + 5 * MINUTE);
      expect(await h.store.getJob(ids[0]!)).toEqual(jobs[0]);
      expect(await h.store.getJob('a0a0a0a0-0000-4000-8000-00000000ffff')).toBeUndefined();

      // An expiry already later than now + extendExpiryMs is kept.
      const rest = await claim(h.store, request.id, worker, {
        count: 5,
        now: now + 1,
        extendExpiryMs: MINUTE,
      });
      expect(rest).toHaveLength(1);
      expect((await getRequest(h.store, request.id)).expiresAt).toBe(after.expiresAt);
      expect(await getRequest(h.store, request.id)).toMatchObject({ waiting: 0, processing: 3 });
      expect(await claim(h.store, request.id, worker, { count: 1, now: now + 2 })).toEqual([]);
      const listed = await h.store.listRequestJobs(request.id);
      expect(listed.map((j) => j.id).sort()).toEqual([...ids, rest[0]!.id].sort());
      await expectActiveJobsConsistent(h.store, [request.id]);
    });

    it('returns no job for an unknown, cancelled or finished request', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      expect(await claim(h.store, 'b0b0b0b0-0000-4000-8000-000000000000', worker)).toEqual([]);
      const cancelled = await enqueue(h.store, imageRequest(a.id));
      await h.store.cancelRequest(cancelled.id, T0);
      expect(await claim(h.store, cancelled.id, worker)).toEqual([]);
      const done = await enqueue(h.store, imageRequest(a.id));
      await complete(h.store, (await claim(h.store, done.id, worker))[0]!);
      expect(await claim(h.store, done.id, worker)).toEqual([]);
      expect(await h.store.listRequestJobs(cancelled.id)).toEqual([]);
      expect(await getRequest(h.store, done.id)).toMatchObject({ state: 'done', finished: 1, processing: 0 });
    });

    it('gives the last job to exactly one of two racing claims', async () => {
      const a = await createAccount(h.store);
      const w1 = await checkIn(h.store, { ownerId: a.id });
      const w2 = await checkIn(h.store, { ownerId: a.id });
      for (let round = 0; round < 10; round++) {
        const request = await enqueue(h.store, imageRequest(a.id, { jobs: 2 }));
        await claim(h.store, request.id, w1);
        const [x, y] = await Promise.all([claim(h.store, request.id, w1), claim(h.store, request.id, w2)]);
        expect(x!.length + y!.length).toBe(1);
        expect(await getRequest(h.store, request.id)).toMatchObject({ waiting: 0, processing: 2 });
        expect(await h.store.listRequestJobs(request.id)).toHaveLength(2);
      }
    });
  });
}
