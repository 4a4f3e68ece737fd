/** The worker registry: check-ins, names, edits, deletion, uptime rewards. */
import { describe, expect, it } from 'vitest';
import { expectLedgerConsistent, expectRc, movements } from './assertions.js';
import {
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  getAccount,
  HOUR,
  imageProfile,
  imageRequest,
  MINUTE,
  T0,
  textProfile,
} from './fixtures.js';
import type { Harness } from './harness.js';

export function workerCases(h: Harness): void {
  describe('workers', () => {
    it('checkInWorker creates a worker, then updates it for the same owner', async () => {
      const owner = await createAccount(h.store);
      const profile = imageProfile({ models: ['stable_diffusion'], threads: 2 });
      const created = await checkIn(h.store, {
        ownerId: owner.id,
        name: 'Lighthouse',
        profile,
        now: T0,
        newId: 'a1a1a1a1-0000-4000-8000-000000000001',
      });
      expect(created).toEqual({
        id: 'a1a1a1a1-0000-4000-8000-000000000001',
        name: 'Lighthouse',
        kind: 'image',
        ownerId: owner.id,
        createdAt: T0,
        lastCheckIn: T0,
        onlineSince: T0,
        uptimeCreditedAt: T0,
        profile,
        maintenance: false,
        maintenanceMessage: null,
        paused: false,
        info: null,
        speedSamples: [],
        stats: {
          requestsFulfilled: 0,
          kudosGenerated: 0,
          kudosUptime: 0,
          thingsGenerated: 0,
          uncompletedJobs: 0,
        },
        recentAborts: [],
      });
      expect(await h.store.getWorker(created.id)).toEqual(created);
      const newProfile = imageProfile({ models: ['stable_diffusion', 'other'] });
      const updated = await checkIn(h.store, {
        ownerId: owner.id,
        name: 'lighthouse',
        profile: newProfile,
        now: T0 + MINUTE,
        newId: 'a1a1a1a1-0000-4000-8000-000000000002',
      });
      expect(updated).toEqual({ ...created, lastCheckIn: T0 + MINUTE, profile: newProfile });
      expect(await h.store.getWorker(created.id)).toEqual(updated);
      expect(await h.store.getWorker('a1a1a1a1-0000-4000-8000-000000000002')).toBeUndefined();
    });

    it('refuses a name held by another owner or by a worker of the other kind, and too many workers', async () => {
      const owner = await createAccount(h.store);
      const stranger = await createAccount(h.store);
      await checkIn(h.store, { ownerId: owner.id, name: 'GPU-1' });
      await expectRc(checkIn(h.store, { ownerId: stranger.id, name: 'gpu-1' }), 'WrongCredentials');
      await expectRc(
        checkIn(h.store, { ownerId: owner.id, name: 'GPU-1', kind: 'text', profile: textProfile() }),
        'PolymorphicNameConflict',
      );
      await checkIn(h.store, { ownerId: owner.id, name: 'GPU-2', maxWorkers: 2 });
      await expectRc(checkIn(h.store, { ownerId: owner.id, name: 'GPU-3', maxWorkers: 2 }), 'TooManyWorkers');
      expect(await h.store.getWorkerByName('GPU-3')).toBeUndefined();
      // Existing workers keep checking in at the limit.
      await checkIn(h.store, { ownerId: owner.id, name: 'GPU-2', maxWorkers: 2, now: T0 + 1 });
      expect((await h.store.listWorkers({ ownerId: owner.id })).map((w) => w.name).sort()).toEqual([
        'GPU-1',
        'GPU-2',
      ]);
      expect(await h.store.listWorkers({ ownerId: stranger.id })).toEqual([]);
    });

    it('restarts the online stretch after a gap longer than the online window', async () => {
      const owner = await createAccount(h.store);
      const window = 5 * MINUTE;
      const at = (now: number) =>
        checkIn(h.store, { ownerId: owner.id, name: 'steady', onlineWindowMs: window, now });
      await at(T0);
      expect(await at(T0 + 4 * MINUTE)).toMatchObject({ onlineSince: T0, uptimeCreditedAt: T0 });
      expect(await at(T0 + 9 * MINUTE)).toMatchObject({ onlineSince: T0, uptimeCreditedAt: T0 });
      const back = T0 + 9 * MINUTE + window + 1;
      expect(await at(back)).toMatchObject({
        onlineSince: back,
        uptimeCreditedAt: back,
        lastCheckIn: back,
        createdAt: T0,
      });
    });

    it('finds workers by name (any case) and lists them by kind, owner, last check-in and name', async () => {
      const a = await createAccount(h.store);
      const b = await createAccount(h.store);
      const painter = await checkIn(h.store, { ownerId: a.id, name: 'Painter', now: T0 });
      const writer = await checkIn(h.store, {
        ownerId: a.id,
        name: 'Writer',
        profile: textProfile(),
        now: T0 + HOUR,
      });
      const other = await checkIn(h.store, { ownerId: b.id, name: 'Other', now: T0 + 2 * HOUR });
      expect(await h.store.getWorkerByName('pAINTER')).toEqual(painter);
      expect(await h.store.getWorkerByName('nobody')).toBeUndefined();
      const ids = async (query?: Parameters<typeof h.store.listWorkers>[0]) =>
        (await h.store.listWorkers(query)).map((w) => w.id).sort();
      expect(await ids()).toEqual([painter.id, writer.id, other.id].sort());
      expect(await ids({ kind: 'text' })).toEqual([writer.id]);
      expect(await ids({ kind: 'image', ownerId: a.id })).toEqual([painter.id]);
      expect(await ids({ onlineSince: T0 + HOUR })).toEqual([writer.id, other.id].sort());
      expect(await ids({ name: 'OTHER' })).toEqual([other.id]);
      expect(await ids({ name: 'other', ownerId: a.id })).toEqual([]);
    });

    it('updateWorker edits flags and renames, keeping names unique in any case', async () => {
      const a = await createAccount(h.store);
      const one = await checkIn(h.store, { ownerId: a.id, name: 'one' });
      const two = await checkIn(h.store, { ownerId: a.id, name: 'two' });
      const edited = await h.store.updateWorker(one.id, {
        maintenance: true,
        maintenanceMessage: 'dropping jobs',
        paused: true,
        info: 'an RTX card',
      });
      expect(edited).toEqual({
        ...one,
        maintenance: true,
        maintenanceMessage: 'dropping jobs',
        paused: true,
        info: 'an RTX card',
      });
      const cleared = await h.store.updateWorker(one.id, { maintenance: false, maintenanceMessage: null });
      expect(cleared).toMatchObject({
        maintenance: false,
        maintenanceMessage: null,
        paused: true,
        info: 'an RTX card',
      });
      await expectRc(h.store.updateWorker(one.id, { name: 'TWO' }), 'WorkerNameAlreadyExists');
      expect((await h.store.getWorker(one.id))?.name).toBe('one');
      expect((await h.store.updateWorker(one.id, { name: 'ONE' })).name).toBe('ONE');
      const renamed = await h.store.updateWorker(one.id, { name: 'uno' });
      expect(renamed.name).toBe('uno');
      expect((await h.store.getWorkerByName('UNO'))?.id).toBe(one.id);
      expect(await h.store.getWorkerByName('one')).toBeUndefined();
      // The old name is free again; a check-in under it creates a new worker.
      const fresh = await checkIn(h.store, { ownerId: a.id, name: 'one' });
      expect(fresh.id).not.toBe(one.id);
      expect((await h.store.getWorker(two.id))?.name).toBe('two');
      await expectRc(
        h.store.updateWorker('a2a2a2a2-0000-4000-8000-000000000000', { paused: true }),
        'WorkerNotFound',
      );
    });

    it('deleteWorker removes the worker and frees its name; jobs in flight still settle', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const worker = await checkIn(h.store, { ownerId: a.id, name: 'gone' });
      const request = await enqueue(h.store, imageRequest(a.id));
      const [job] = await claim(h.store, request.id, worker);
      expect(await h.store.deleteWorker(worker.id)).toBe(true);
      expect(await h.store.deleteWorker(worker.id)).toBe(false);
      expect(await h.store.getWorker(worker.id)).toBeUndefined();
      expect(await h.store.getWorkerByName('gone')).toBeUndefined();
      expect(await h.store.listWorkers()).toEqual([]);
      expect((await complete(h.store, job!, { cost: 100, reward: 100 })).outcome).toBe('settled');
      const again = await checkIn(h.store, { ownerId: (await createAccount(h.store)).id, name: 'GONE' });
      expect(again.id).not.toBe(worker.id);
    });

    it('creditUptime pays one full period at a time to the owner, with a journal row', async () => {
      const owner = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: owner.id, now: T0 });
      const credit = (now: number) =>
        h.store.creditUptime({ workerId: worker.id, periodMs: 10 * MINUTE, reward: 400, escrow: 100, now });
      expect(await credit(T0 + 10 * MINUTE - 1)).toBe(0);
      expect(await getAccount(h.store, owner.id)).toMatchObject({ balance: 0, escrow: 0 });
      expect(await credit(T0 + 25 * MINUTE)).toBe(500);
      expect(await h.store.getWorker(worker.id)).toMatchObject({
        uptimeCreditedAt: T0 + 10 * MINUTE,
        stats: { kudosUptime: 500 },
      });
      expect(await getAccount(h.store, owner.id)).toMatchObject({ balance: 400, escrow: 100 });
      expect(await movements(h.store, owner.id)).toEqual([
        { kind: 'uptime', balanceDelta: 400, escrowDelta: 100, bucket: 'accumulated' },
      ]);
      // A second period had already passed at T0 + 25 min; a third had not.
      expect(await credit(T0 + 25 * MINUTE)).toBe(500);
      expect(await credit(T0 + 25 * MINUTE)).toBe(0);
      expect((await h.store.getWorker(worker.id))?.uptimeCreditedAt).toBe(T0 + 20 * MINUTE);
      expect((await getAccount(h.store, owner.id)).balance).toBe(800);
      await expectLedgerConsistent(h.store);
      await expectRc(
        h.store.creditUptime({
          workerId: 'a3a3a3a3-0000-4000-8000-000000000000',
          periodMs: 1,
          reward: 1,
          escrow: 0,
          now: T0,
        }),
        'WorkerNotFound',
      );
    });
  });
}
