/** The ledger: balance adjustments, escrow release, transfers, the journal and its totals. */
import { describe, expect, it } from 'vitest';
import type { HordeStore, KudosBucket, TransferOp } from '../../storage/types.js';
import { allAccounts, expectLedgerConsistent, expectRc, lastJournalId, movements } from './assertions.js';
import {
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  fund,
  getAccount,
  HOUR,
  imageRequest,
  MINUTE,
  T0,
} from './fixtures.js';
import type { Harness } from './harness.js';

function transfer(
  store: HordeStore,
  op: Partial<TransferOp> & Pick<TransferOp, 'fromId' | 'toId' | 'amount'>,
) {
  return store.transfer({
    senderFloor: 0,
    senderBucket: 'gifted',
    pingPongSince: T0 - MINUTE,
    idempotencyKey: null,
    at: T0,
    ...op,
  });
}

/** Gives the account escrow the only way the port allows: an uptime reward held back. */
async function withEscrow(store: HordeStore, ownerId: number, escrow: number) {
  const worker = await checkIn(store, { ownerId, now: T0 });
  await store.creditUptime({ workerId: worker.id, periodMs: HOUR, reward: 0, escrow, now: T0 + HOUR });
}

export function ledgerCases(h: Harness): void {
  describe('adjustBalance', () => {
    it('credits the balance, counts the bucket and journals the movement', async () => {
      const a = await createAccount(h.store);
      const after = await h.store.adjustBalance({
        accountId: a.id,
        kind: 'award',
        amount: 1500,
        bucket: 'awarded',
        ref: 'award:1',
        at: T0 + 5,
      });
      expect(after.balance).toBe(1500);
      expect(after.details.awarded).toBe(1500);
      expect(await h.store.getAccount(a.id)).toEqual(after);
      const [row] = await h.store.readJournal({ accountId: a.id });
      expect(row).toMatchObject({
        at: T0 + 5,
        accountId: a.id,
        kind: 'award',
        balanceDelta: 1500,
        escrowDelta: 0,
        bucket: 'awarded',
        ref: 'award:1',
      });
      await expectRc(fund(h.store, 987_654, 10), 'UserNotFound');
    });

    it('stops a debit at the floor and mints the difference in a floor row', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const from = await lastJournalId(h.store);
      const within = await h.store.adjustBalance({
        accountId: a.id,
        kind: 'admin',
        amount: -300,
        bucket: 'admin',
        floor: 200,
        at: T0,
      });
      expect(within.balance).toBe(700);
      const stopped = await h.store.adjustBalance({
        accountId: a.id,
        kind: 'admin',
        amount: -1000,
        bucket: 'admin',
        floor: 200,
        at: T0,
      });
      expect(stopped.balance).toBe(200);
      expect(await movements(h.store, a.id, from)).toEqual([
        { kind: 'admin', balanceDelta: -300, escrowDelta: 0, bucket: 'admin' },
        { kind: 'admin', balanceDelta: -1000, escrowDelta: 0, bucket: 'admin' },
        { kind: 'floor', balanceDelta: 500, escrowDelta: 0, bucket: null },
      ]);
      // Without a floor a debit is applied in full.
      const free = await h.store.adjustBalance({
        accountId: a.id,
        kind: 'admin',
        amount: -500,
        bucket: 'admin',
        at: T0,
      });
      expect(free.balance).toBe(-300);
      await expectLedgerConsistent(h.store);
    });

    it('releases escrow into the balance, never more than the escrow', async () => {
      const a = await createAccount(h.store);
      await withEscrow(h.store, a.id, 700);
      expect(await getAccount(h.store, a.id)).toMatchObject({ balance: 0, escrow: 700 });
      const from = await lastJournalId(h.store);
      const release = (amount: number) =>
        h.store.adjustBalance({
          accountId: a.id,
          kind: 'escrow',
          amount,
          bucket: 'accumulated',
          at: T0 + HOUR,
        });
      expect(await release(500)).toMatchObject({ balance: 500, escrow: 200 });
      expect(await release(1000)).toMatchObject({ balance: 700, escrow: 0 });
      expect(await release(50)).toMatchObject({ balance: 700, escrow: 0 });
      expect(await movements(h.store, a.id, from)).toEqual([
        { kind: 'escrow', balanceDelta: 500, escrowDelta: -500, bucket: 'accumulated' },
        { kind: 'escrow', balanceDelta: 200, escrowDelta: -200, bucket: 'accumulated' },
      ]);
      await expectLedgerConsistent(h.store);
    });
  });

  describe('transfer', () => {
    it('moves the amount, counts gifted and received, and journals two rows', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const b = await createAccount(h.store);
      const totals = await h.store.ledgerTotals();
      const result = await transfer(h.store, { fromId: a.id, toId: b.id, amount: 300, at: T0 + 7 });
      expect(result.replayed).toBe(false);
      expect(result.transfer).toEqual({
        id: result.transfer.id,
        fromId: a.id,
        toId: b.id,
        amount: 300,
        idempotencyKey: null,
        at: T0 + 7,
      });
      const [sender, recipient] = [await getAccount(h.store, a.id), await getAccount(h.store, b.id)];
      expect(sender.balance).toBe(700);
      expect(sender.details.gifted).toBe(-300);
      expect(recipient.balance).toBe(300);
      expect(recipient.details.received).toBe(300);
      const rows = (await h.store.readJournal()).filter((e) => e.kind === 'transfer');
      expect(
        rows.map(({ accountId, balanceDelta, escrowDelta, bucket, at }) => ({
          accountId,
          balanceDelta,
          escrowDelta,
          bucket,
          at,
        })),
      ).toEqual([
        { accountId: a.id, balanceDelta: -300, escrowDelta: 0, bucket: 'gifted', at: T0 + 7 },
        { accountId: b.id, balanceDelta: 300, escrowDelta: 0, bucket: 'received', at: T0 + 7 },
      ]);
      expect(await h.store.ledgerTotals()).toEqual({ ...totals });
    });

    it('counts a donation to an education account as donated', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const school = await createAccount(h.store, { roles: { education: true } });
      await transfer(h.store, { fromId: a.id, toId: school.id, amount: 400, senderBucket: 'donated' });
      const sender = await getAccount(h.store, a.id);
      expect(sender.details).toMatchObject({ donated: -400, gifted: 0 });
      expect((await movements(h.store, a.id)).at(-1)).toEqual({
        kind: 'transfer',
        balanceDelta: -400,
        escrowDelta: 0,
        bucket: 'donated',
      });
    });

    it('refuses more than balance − reserved − floor and changes nothing', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const b = await createAccount(h.store);
      await enqueue(h.store, imageRequest(a.id), { reserve: 300 }); // spendable: 1000 − 300 − 200 = 500
      const journal = await h.store.readJournal();
      const before = [await getAccount(h.store, a.id), await getAccount(h.store, b.id)];
      await expectRc(
        transfer(h.store, { fromId: a.id, toId: b.id, amount: 501, senderFloor: 200 }),
        'KudosTransferNotEnough',
      );
      expect([await getAccount(h.store, a.id), await getAccount(h.store, b.id)]).toEqual(before);
      expect(await h.store.readJournal()).toEqual(journal);
      await transfer(h.store, { fromId: a.id, toId: b.id, amount: 500, senderFloor: 200 });
      expect(await getAccount(h.store, a.id)).toMatchObject({ balance: 500, reserved: 300 });
    });

    it('refuses to send back to someone who sent kudos after pingPongSince', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const b = await createAccount(h.store, { balance: 1000 });
      await transfer(h.store, { fromId: b.id, toId: a.id, amount: 100, at: T0 + 1000 });
      // The same direction again is no ping-pong.
      await transfer(h.store, { fromId: b.id, toId: a.id, amount: 100, pingPongSince: T0, at: T0 + 1100 });
      await expectRc(
        transfer(h.store, { fromId: a.id, toId: b.id, amount: 100, pingPongSince: T0 + 999, at: T0 + 2000 }),
        'TooFastKudosTransfers',
      );
      expect((await getAccount(h.store, a.id)).balance).toBe(1200);
      expect((await getAccount(h.store, b.id)).balance).toBe(800);
      // Long enough ago: allowed.
      await transfer(h.store, {
        fromId: a.id,
        toId: b.id,
        amount: 100,
        pingPongSince: T0 + 1500,
        at: T0 + 2000,
      });
      expect((await getAccount(h.store, a.id)).balance).toBe(1100);
    });

    it('replays the same idempotency key once and refuses it for a different transfer', async () => {
      const a = await createAccount(h.store, { balance: 300 });
      const b = await createAccount(h.store);
      const c = await createAccount(h.store);
      const first = await transfer(h.store, { fromId: a.id, toId: b.id, amount: 300, idempotencyKey: 'k-1' });
      expect(first.replayed).toBe(false);
      expect(first.transfer.idempotencyKey).toBe('k-1');
      // The sender has nothing left: a replay must not move (or check) anything again.
      const replay = await transfer(h.store, {
        fromId: a.id,
        toId: b.id,
        amount: 300,
        idempotencyKey: 'k-1',
        at: T0 + 9,
      });
      expect(replay).toEqual({ transfer: first.transfer, replayed: true });
      expect((await getAccount(h.store, b.id)).balance).toBe(300);
      expect((await h.store.readJournal()).filter((e) => e.kind === 'transfer')).toHaveLength(2);
      await expectRc(
        transfer(h.store, { fromId: a.id, toId: b.id, amount: 200, idempotencyKey: 'k-1' }),
        'IdempotencyKeyConflict',
      );
      await expectRc(
        transfer(h.store, { fromId: a.id, toId: c.id, amount: 300, idempotencyKey: 'k-1' }),
        'IdempotencyKeyConflict',
      );
      expect((await getAccount(h.store, c.id)).balance).toBe(0);
    });

    it('refuses a transfer to oneself', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      await expectRc(transfer(h.store, { fromId: a.id, toId: a.id, amount: 10 }), 'KudosTransferToSelf');
      expect((await getAccount(h.store, a.id)).balance).toBe(1000);
    });
  });

  describe('journal and totals', () => {
    it('re-derive every balance and escrow after a mixed sequence; balances + escrow = minted − burnt', async () => {
      const requester = await createAccount(h.store, { balance: 5000 });
      const owner = await createAccount(h.store);
      const poor = await createAccount(h.store);
      await h.store.adjustBalance({
        accountId: requester.id,
        kind: 'recurring',
        amount: 700,
        bucket: 'recurring',
        at: T0,
      });
      await transfer(h.store, { fromId: requester.id, toId: poor.id, amount: 1200 });
      await enqueue(h.store, imageRequest(poor.id), { tax: 100, floor: 0 });
      const request = await enqueue(h.store, imageRequest(requester.id, { jobs: 2 }), {
        tax: 250,
        reserve: 1000,
      });
      const worker = await checkIn(h.store, { ownerId: owner.id });
      const jobs = await claim(h.store, request.id, worker, { count: 2 });
      await complete(h.store, jobs[0]!, { cost: 900, reward: 700, escrow: 200 });
      await complete(h.store, jobs[1]!, { cost: 5000, requesterFloor: 0, reward: 400, escrow: 100 });
      await h.store.creditUptime({
        workerId: worker.id,
        periodMs: HOUR,
        reward: 300,
        escrow: 60,
        now: T0 + HOUR,
      });
      await h.store.adjustBalance({
        accountId: owner.id,
        kind: 'escrow',
        amount: 250,
        bucket: 'accumulated',
        at: T0 + HOUR,
      });
      await h.store.adjustBalance({
        accountId: poor.id,
        kind: 'admin',
        amount: -5000,
        bucket: 'admin',
        floor: -50,
        at: T0 + HOUR,
      });
      await expectLedgerConsistent(h.store);
      // kudos_details re-derive from the rows' buckets (the balance part: held escrow counts once released).
      const journal = await h.store.readJournal();
      for (const account of await allAccounts(h.store)) {
        const derived = { ...account.details };
        for (const key of Object.keys(derived) as KudosBucket[]) derived[key] = 0;
        for (const e of journal)
          if (e.accountId === account.id && e.bucket) derived[e.bucket] += e.balanceDelta;
        expect({ account: account.id, details: derived }).toEqual({
          account: account.id,
          details: account.details,
        });
      }
      const totals = await h.store.ledgerTotals();
      expect(totals.balances + totals.escrow).toBe(
        (await getAccount(h.store, requester.id)).balance +
          (await getAccount(h.store, owner.id)).balance +
          (await getAccount(h.store, owner.id)).escrow +
          (await getAccount(h.store, poor.id)).balance,
      );
    });

    it('reads the journal in id order, after an id, limited, per account', async () => {
      const a = await createAccount(h.store);
      const b = await createAccount(h.store);
      for (let i = 1; i <= 3; i++) {
        await fund(h.store, a.id, i, T0 + i);
        await fund(h.store, b.id, 10 * i, T0 + i);
      }
      const all = await h.store.readJournal();
      expect(all).toHaveLength(6);
      expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((x, y) => x - y));
      expect(new Set(all.map((e) => e.id)).size).toBe(6);
      expect(all.map((e) => e.balanceDelta)).toEqual([1, 10, 2, 20, 3, 30]);
      expect(await h.store.readJournal({ limit: 2 })).toEqual(all.slice(0, 2));
      expect(await h.store.readJournal({ afterId: all[1]!.id, limit: 3 })).toEqual(all.slice(2, 5));
      expect(await h.store.readJournal({ afterId: all[5]!.id })).toEqual([]);
      expect((await h.store.readJournal({ accountId: b.id })).map((e) => e.balanceDelta)).toEqual([
        10, 20, 30,
      ]);
      expect(
        (await h.store.readJournal({ accountId: b.id, afterId: all[3]!.id })).map((e) => e.balanceDelta),
      ).toEqual([30]);
    });
  });
}
