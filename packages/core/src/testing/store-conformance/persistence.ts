/** Reopening a file-backed store: everything comes back exactly, and keeps working. */
import { describe, expect, it } from 'vitest';
import type { HordeStore } from '../../storage/types.js';
import { allAccounts, expectActiveJobsConsistent, expectLedgerConsistent, expectRc } from './assertions.js';
import {
  candidateIds,
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  fail,
  getRequest,
  HOUR,
  imageQuery,
  imageRequest,
  MINUTE,
  SECOND,
  T0,
  textProfile,
  textQuery,
  textRequest,
} from './fixtures.js';
import type { Harness } from './harness.js';

const SKIP_NOTE = 'the driver gave no reopen(): a throw-away store has nothing to persist';

/** Accounts, money, requests in every state, jobs in every state, workers, uptime. */
async function mixedWorkload(store: HordeStore) {
  await createAccount(store, { id: 0, username: 'Anonymous', kind: 'anonymous' });
  const alice = await createAccount(store, {
    apiKeyHash: 'hash-alice',
    balance: 20_000,
    roles: { trusted: true },
  });
  const bob = await createAccount(store, { balance: 5000 });
  const owner = await createAccount(store);
  await store.linkIdentity(alice.id, 'discord', '42');
  await store.updateAccount(bob.id, { contact: 'bob@example.org', publicWorkers: true });
  await store.transfer({
    fromId: alice.id,
    toId: bob.id,
    amount: 1000,
    senderFloor: 0,
    senderBucket: 'gifted',
    pingPongSince: T0 - MINUTE,
    idempotencyKey: 'persist-1',
    at: T0,
  });
  const worker = await checkIn(store, { ownerId: owner.id, name: 'persist-gpu', now: T0 });
  const textWorker = await checkIn(store, {
    ownerId: owner.id,
    name: 'persist-llm',
    profile: textProfile(),
    now: T0,
  });
  const aging = { amount: 1, intervalMs: MINUTE };
  const r1 = await enqueue(store, imageRequest(alice.id, { jobs: 3, meta: { agent: 'x:1' } }), {
    tax: 100,
    reserve: 500,
    aging,
  });
  const r2 = await enqueue(store, imageRequest(bob.id, { jobs: 2, models: [] }), { tax: 50, aging });
  const r3 = await enqueue(store, textRequest(0, { maxLength: 120 }), { floor: -50, tax: 10, aging });
  const r4 = await enqueue(store, imageRequest(bob.id, { createdAt: T0 + 2 * MINUTE }), { aging });
  const r5 = await enqueue(store, imageRequest(alice.id, { expiresAt: T0 + MINUTE }), {
    reserve: 100,
    aging,
  });
  const r6 = await enqueue(store, imageRequest(alice.id, { jobs: 2 }), { priorityOverride: 3, aging });
  const r7 = await enqueue(store, textRequest(bob.id, { jobs: 2, models: ['koboldcpp/tiny'] }), { aging });
  const j1 = await claim(store, r1.id, worker, {
    count: 2,
    now: T0 + 10 * SECOND,
    extendExpiryMs: 30 * MINUTE,
  });
  await complete(store, j1[0]!, {
    cost: 300,
    reward: 250,
    escrow: 50,
    speedSample: 3,
    now: T0 + 20 * SECOND,
  });
  await fail(store, j1[1]!.id, { reason: 'aborted', now: T0 + 30 * SECOND });
  await claim(store, r2.id, worker, { now: T0 + 40 * SECOND, leaseMs: 2 * MINUTE });
  const [t1] = await claim(store, r3.id, textWorker, { now: T0 + 40 * SECOND, model: 'koboldcpp/tiny' });
  await complete(store, t1!, { cost: 20, reward: 20, speedSample: 12, now: T0 + 50 * SECOND });
  await store.cancelRequest(r4.id, T0 + 2 * MINUTE);
  await store.expireRequests(T0 + 2 * MINUTE, 100);
  await store.creditUptime({ workerId: worker.id, periodMs: HOUR, reward: 0, escrow: 0, now: T0 + HOUR });
  await store.creditUptime({
    workerId: textWorker.id,
    periodMs: HOUR,
    reward: 30,
    escrow: 70,
    now: T0 + HOUR,
  });
  await store.adjustBalance({
    accountId: owner.id,
    kind: 'escrow',
    amount: 20,
    bucket: 'accumulated',
    at: T0 + HOUR,
  });
  await store.updateWorker(worker.id, {
    info: 'persisted',
    maintenance: true,
    maintenanceMessage: 'paused by test',
  });
  return {
    alice,
    bob,
    requestIds: [r1, r2, r3, r4, r5, r6, r7].map((r) => r.id),
    workerIds: [worker.id, textWorker.id],
  };
}

/** Everything the port can read back. */
async function readEverything(store: HordeStore, requestIds: string[], workerIds: string[]) {
  const accounts = await allAccounts(store);
  const jobs = await Promise.all(requestIds.map((id) => store.listRequestJobs(id)));
  return {
    accounts,
    byKudos: await store.listAccounts({ offset: 0, limit: 100, sort: 'kudos' }),
    accountRequests: await Promise.all(accounts.map((a) => store.listAccountRequests(a.id))),
    byKey: await store.getAccountByKeyHash('hash-alice'),
    byIdentity: await store.getAccountByIdentity('discord', '42'),
    requests: await Promise.all(requestIds.map((id) => store.getRequest(id))),
    jobs,
    jobsById: await Promise.all(jobs.flat().map((j) => store.getJob(j.id))),
    expiredLeases: await store.listExpiredLeases(T0 + 10 * HOUR, 100),
    workers: await Promise.all(workerIds.map((id) => store.getWorker(id))),
    workerList: await store.listWorkers(),
    workerByName: await store.getWorkerByName('PERSIST-GPU'),
    journal: await store.readJournal(),
    totals: await store.ledgerTotals(),
    positions: await Promise.all(requestIds.map((id) => store.queuePosition(id))),
    imageOrder: await candidateIds(store, imageQuery()),
    textOrder: await candidateIds(store, textQuery()),
    summaries: [await store.queueSummary('image'), await store.queueSummary('text')],
  };
}

export function persistenceCases(h: Harness): void {
  describe('persistence', () => {
    it('reopens with accounts, requests, jobs, workers, journal and queue exactly as they were', async (ctx) => {
      ctx.skip(!h.canReopen, SKIP_NOTE);
      const { requestIds, workerIds } = await mixedWorkload(h.store);
      const before = await readEverything(h.store, requestIds, workerIds);
      expect(before.imageOrder.length).toBeGreaterThan(1);
      expect(before.requests.map((r) => r?.state)).toEqual([
        'active',
        'active',
        'done',
        'cancelled',
        'expired',
        'active',
        'active',
      ]);
      await h.reopen();
      const after = await readEverything(h.store, requestIds, workerIds);
      for (const key of Object.keys(before) as (keyof typeof before)[]) {
        expect({ [key]: after[key] }).toEqual({ [key]: before[key] });
      }
    });

    it('keeps working after a reopen: ids and seq continue, keys, idempotency and ping-pong hold', async (ctx) => {
      ctx.skip(!h.canReopen, SKIP_NOTE);
      const { alice, bob, requestIds, workerIds } = await mixedWorkload(h.store);
      const maxSeq = Math.max(
        ...(await Promise.all(requestIds.map((id) => getRequest(h.store, id)))).map((r) => r.seq),
      );
      const maxId = Math.max(...(await allAccounts(h.store)).map((a) => a.id));
      await h.reopen();
      const carol = await createAccount(h.store);
      expect(carol.id).toBeGreaterThan(maxId);
      const next = await enqueue(h.store, imageRequest(carol.id));
      expect(next.seq).toBeGreaterThan(maxSeq);
      const replay = await h.store.transfer({
        fromId: alice.id,
        toId: bob.id,
        amount: 1000,
        senderFloor: 0,
        senderBucket: 'gifted',
        pingPongSince: T0 - MINUTE,
        idempotencyKey: 'persist-1',
        at: T0 + HOUR,
      });
      expect(replay.replayed).toBe(true);
      await expectRc(
        h.store.transfer({
          fromId: bob.id,
          toId: alice.id,
          amount: 10,
          senderFloor: 0,
          senderBucket: 'gifted',
          pingPongSince: T0 - MINUTE,
          idempotencyKey: null,
          at: T0 + HOUR,
        }),
        'TooFastKudosTransfers',
      );
      await expectRc(checkIn(h.store, { ownerId: carol.id, name: 'Persist-GPU' }), 'WrongCredentials');
      // The job left in flight settles after the reopen.
      const [inFlight] = (await h.store.listRequestJobs(requestIds[1]!)).filter(
        (j) => j.state === 'processing',
      );
      expect((await complete(h.store, inFlight!, { cost: 100, reward: 100 })).outcome).toBe('settled');
      expect(
        (await claim(h.store, requestIds[0]!, { id: workerIds[0]!, ownerId: inFlight!.workerOwnerId }))
          .length,
      ).toBe(1);
      await expectLedgerConsistent(h.store);
      await expectActiveJobsConsistent(h.store, [...requestIds, next.id]);
    });

    it("keeps a worker's latest check-in across a clean close and reopen", async (ctx) => {
      ctx.skip(!h.canReopen, SKIP_NOTE);
      const owner = await createAccount(h.store);
      const first = await checkIn(h.store, { ownerId: owner.id, name: 'pulse', now: T0 });
      const latest = await checkIn(h.store, { ownerId: owner.id, name: 'pulse', now: T0 + 5 * SECOND });
      expect(latest.lastCheckIn).toBe(T0 + 5 * SECOND);
      await h.reopen();
      expect(await h.store.getWorker(first.id)).toEqual(latest);
    });
  });
}
