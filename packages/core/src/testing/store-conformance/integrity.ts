/**
 * Limits under concurrent calls, the ledger's invariants under random operation sequences (fast-check),
 * and records that belong to the caller once handed out.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHordeError } from '../../errors.js';
import type { HordeStore, JobRecord, WorkerRecord } from '../../storage/types.js';
import { allAccounts, expectActiveJobsConsistent, expectLedgerConsistent } from './assertions.js';
import {
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  getAccount,
  getRequest,
  imageQuery,
  imageRequest,
  MINUTE,
  T0,
} from './fixtures.js';
import type { Harness } from './harness.js';

const OPERATION = fc.oneof(
  fc.record({
    type: fc.constant('fund' as const),
    who: fc.nat(2),
    amount: fc.integer({ min: -3000, max: 5000 }),
  }),
  fc.record({
    type: fc.constant('transfer' as const),
    from: fc.nat(2),
    to: fc.nat(2),
    amount: fc.integer({ min: 1, max: 3000 }),
  }),
  fc.record({
    type: fc.constant('enqueue' as const),
    who: fc.nat(2),
    jobs: fc.integer({ min: 1, max: 3 }),
    tax: fc.nat(500),
    reserve: fc.nat(2000),
  }),
  fc.record({ type: fc.constant('claim' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    type: fc.constant('complete' as const),
    pick: fc.nat(),
    cost: fc.nat(2000),
    reward: fc.nat(1500),
    escrow: fc.nat(500),
  }),
  fc.record({ type: fc.constant('fail' as const), pick: fc.nat(), aborted: fc.boolean() }),
  fc.record({ type: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ type: fc.constant('expire' as const) }),
);
type Operation = typeof OPERATION extends fc.Arbitrary<infer T> ? T : never;

/** The refusals a random sequence may run into; anything else is a failure. */
const EXPECTED_REFUSALS = ['KudosTransferNotEnough', 'KudosTransferToSelf', 'TooManyPrompts', 'KudosUpfront'];

interface World {
  store: HordeStore;
  accounts: number[];
  worker: WorkerRecord;
  requests: string[];
  inFlight: JobRecord[];
  now: number;
}

async function apply(w: World, op: Operation): Promise<void> {
  const floor = 0;
  const pick = <T>(list: T[], at: number) => list[at % list.length];
  switch (op.type) {
    case 'fund':
      await w.store.adjustBalance({
        accountId: w.accounts[op.who]!,
        kind: 'admin',
        amount: op.amount,
        bucket: 'admin',
        floor,
        at: w.now,
      });
      return;
    case 'transfer':
      await w.store.transfer({
        fromId: w.accounts[op.from]!,
        toId: w.accounts[op.to]!,
        amount: op.amount,
        senderFloor: floor,
        senderBucket: 'gifted',
        pingPongSince: w.now + 1,
        idempotencyKey: null,
        at: w.now,
      });
      return;
    case 'enqueue': {
      const request = imageRequest(w.accounts[op.who]!, { jobs: op.jobs, createdAt: w.now });
      await enqueue(w.store, request, { tax: op.tax, reserve: op.reserve, floor, concurrencyLimit: 5 });
      w.requests.push(request.id);
      return;
    }
    case 'claim': {
      const id = pick(w.requests, op.pick);
      if (id) w.inFlight.push(...(await claim(w.store, id, w.worker, { count: op.count, now: w.now })));
      return;
    }
    case 'complete': {
      const job = pick(w.inFlight, op.pick);
      if (job)
        await complete(w.store, job, {
          cost: op.cost,
          reward: op.reward,
          escrow: op.escrow,
          requesterFloor: floor,
          now: w.now,
          retainUntil: w.now,
        });
      return;
    }
    case 'fail': {
      const job = pick(w.inFlight, op.pick);
      if (job)
        await w.store.failJob({
          jobId: job.id,
          reason: op.aborted ? 'aborted' : 'faulted',
          faultAfter: 2,
          abortWindowMs: MINUTE,
          now: w.now,
        });
      return;
    }
    case 'cancel': {
      const id = pick(w.requests, op.pick);
      if (id) await w.store.cancelRequest(id, w.now);
      return;
    }
    case 'expire':
      await w.store.expireRequests(w.now, 100);
      return;
  }
}

export function integrityCases(h: Harness): void {
  describe('concurrency', () => {
    it('never breaks the floor or the limit under 50 concurrent enqueues and transfers', async () => {
      const floor = 2500;
      const limit = 20;
      const a = await createAccount(h.store, { balance: 10_000, concurrency: limit });
      const b = await createAccount(h.store);
      const calls = Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? enqueue(h.store, imageRequest(a.id), { reserve: 300, tax: 20, floor, concurrencyLimit: limit })
          : h.store.transfer({
              fromId: a.id,
              toId: b.id,
              amount: 300,
              senderFloor: floor,
              senderBucket: 'gifted',
              pingPongSince: T0,
              idempotencyKey: `burst-${i}`,
              at: T0 + i,
            }),
      );
      const results = await Promise.allSettled(calls);
      const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      for (const reason of refusals) {
        expect(isHordeError(reason) ? reason.rc : reason).toBeOneOf([
          'KudosUpfront',
          'TooManyPrompts',
          'KudosTransferNotEnough',
        ]);
      }
      const enqueued = results.filter((r, i) => i % 2 === 0 && r.status === 'fulfilled').length;
      const transferred = results.filter((r, i) => i % 2 === 1 && r.status === 'fulfilled').length;
      expect(refusals.length).toBeGreaterThan(0);
      const after = await getAccount(h.store, a.id);
      expect(after.balance).toBeGreaterThanOrEqual(floor);
      expect(enqueued).toBeLessThanOrEqual(limit);
      expect(after.activeJobs).toBe(enqueued);
      expect(after.reserved).toBe(300 * enqueued);
      expect(300 * (enqueued + transferred)).toBeLessThanOrEqual(10_000 - floor);
      expect((await getAccount(h.store, b.id)).balance).toBe(300 * transferred);
      await expectLedgerConsistent(h.store);
    });
  });

  describe('invariants', () => {
    it('keep the ledger balanced, balances above the floor and activeJobs exact under random sequences', async () => {
      const requests: string[] = [];
      await fc.assert(
        fc.asyncProperty(fc.array(OPERATION, { maxLength: 30 }), async (ops) => {
          const accounts = [];
          for (let i = 0; i < 3; i++) accounts.push((await createAccount(h.store, { balance: 3000 })).id);
          const worker = await checkIn(h.store, { ownerId: accounts[2]!, maxWorkers: 1 });
          const w: World = { store: h.store, accounts, worker, requests, inFlight: [], now: T0 };
          for (const op of ops) {
            w.now += 3 * MINUTE;
            try {
              await apply(w, op);
            } catch (error) {
              expect(isHordeError(error) ? error.rc : error).toBeOneOf(EXPECTED_REFUSALS);
            }
          }
          for (const account of await allAccounts(h.store)) expect(account.balance).toBeGreaterThanOrEqual(0);
          await expectLedgerConsistent(h.store);
          await expectActiveJobsConsistent(h.store, requests);
        }),
        { numRuns: 25 },
      );
    });
  });

  describe('records', () => {
    it('hands out snapshots: changing a returned record changes nothing in the store', async () => {
      const a = await createAccount(h.store, { balance: 100 });
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 2, meta: { agent: 'x:1' } }));
      const [job] = await claim(h.store, request.id, worker);
      await complete(h.store, job!, { speedSample: 2 });
      const pristine = structuredClone({
        account: await getAccount(h.store, a.id),
        request: await getRequest(h.store, request.id),
        worker: await h.store.getWorker(worker.id),
        jobs: await h.store.listRequestJobs(request.id),
      });

      // A driver may hand out copies or frozen records: a change either throws or stays local.
      const attempt = (change: () => void) => {
        try {
          change();
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      };
      const account = await getAccount(h.store, a.id);
      attempt(() => {
        account.balance = 1;
      });
      attempt(() => {
        account.details.gifted = 1;
      });
      attempt(() => {
        account.roles.trusted = true;
      });
      const [candidate] = (await h.store.findCandidates(imageQuery())).candidates;
      attempt(() => {
        candidate!.waiting = 99;
      });
      attempt(() => {
        candidate!.meta.agent = 'changed';
      });
      attempt(() => {
        candidate!.models.push('changed');
      });
      const stored = await h.store.getWorker(worker.id);
      attempt(() => {
        stored!.speedSamples.push(99);
      });
      attempt(() => {
        stored!.stats.requestsFulfilled = 99;
      });
      const [listed] = await h.store.listRequestJobs(request.id);
      attempt(() => {
        listed!.result!.genMetadata.push({ type: 'changed', value: 'changed' });
      });

      expect({
        account: await getAccount(h.store, a.id),
        request: await getRequest(h.store, request.id),
        worker: await h.store.getWorker(worker.id),
        jobs: await h.store.listRequestJobs(request.id),
      }).toEqual(pristine);
    });
  });
}
