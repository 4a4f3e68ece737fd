/**
 * One account, many nodes, at once: 1,000 concurrent requests (taxed, with upfront reservations, some
 * claimed and settled) and transfers from the same account, spread over three stores on one database —
 * three nodes. The account's money is on stripes (money.ts); here both paths race: single-stripe
 * charges while the account is flush, whole-account passes as it nears its floor. The balance must
 * never be seen below the floor, nothing may deadlock or fail with a storage error, and the ledger must
 * balance exactly afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHordeError } from '../../errors.js';
import { createTestDatabase, type TestDatabase } from '../../testing/services.js';
import {
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  fund,
  imageRequest,
  MINUTE,
  T0,
} from '../../testing/store-conformance/fixtures.js';
import { createPostgresStore, type PostgresStore } from './index.js';

const FLOOR = 1_400; // a pseudonymous account's 14 kudos
const START = 100_000;
const OPERATIONS = 1_000;

let database: TestDatabase | undefined;
let nodes: PostgresStore[] = [];
beforeAll(async () => {
  database = await createTestDatabase('contention');
  const url = database.url;
  // Three nodes starting at once: the migrations must not trip over each other.
  nodes = await Promise.all([1, 2, 3].map(() => createPostgresStore({ connectionString: url, poolSize: 8 })));
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await database?.drop();
});

describe('one account charged from three nodes at once', () => {
  it('never goes below its floor, never deadlocks, and balances to the last centikudo', async () => {
    const [first] = nodes;
    const spender = await createAccount(first!, { balance: START, concurrency: 10_000 });
    const recipients = await Promise.all([1, 2, 3, 4, 5].map(() => createAccount(first!)));
    const owner = await createAccount(first!);
    const worker = await checkIn(first!, { ownerId: owner.id });

    let lowest = Number.POSITIVE_INFINITY;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const account = await nodes[2]!.getAccount(spender.id);
        lowest = Math.min(lowest, account!.balance);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    const outcomes = { done: 0, refused: new Map<string, number>() };
    const refuse = (error: unknown) => {
      if (!isHordeError(error) || error.rc === 'StorageError') throw error;
      outcomes.refused.set(error.rc, (outcomes.refused.get(error.rc) ?? 0) + 1);
    };
    const operation = async (i: number) => {
      const node = nodes[i % nodes.length]!;
      try {
        if (i % 5 < 2) {
          await node.transfer({
            fromId: spender.id,
            toId: recipients[i % recipients.length]!.id,
            amount: 300 + (i % 7) * 10,
            senderFloor: FLOOR,
            senderBucket: 'gifted',
            pingPongSince: T0 - MINUTE,
            idempotencyKey: null,
            at: T0,
          });
        } else {
          const request = await enqueue(node, imageRequest(spender.id), {
            tax: 100,
            reserve: i % 5 === 4 ? 500 : 0,
            floor: FLOOR,
            concurrencyLimit: 10_000,
          });
          if (i % 5 === 3) {
            const [job] = await claim(node, request.id, worker);
            await complete(node, job!, { cost: 400, requesterFloor: FLOOR, reward: 400 });
          }
        }
        outcomes.done++;
      } catch (error) {
        refuse(error);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: OPERATIONS }, (_, i) => operation(i)));
    const seconds = (Date.now() - started) / 1000;
    polling = false;
    await poller;

    const after = (await first!.getAccount(spender.id))!;
    lowest = Math.min(lowest, after.balance);
    // Demand is about three times the balance: the account runs dry and the floor is what stops it.
    expect(outcomes.done + [...outcomes.refused.values()].reduce((a, b) => a + b, 0)).toBe(OPERATIONS);
    expect(outcomes.refused.size).toBeGreaterThan(0);
    expect(
      [...outcomes.refused.keys()].every((rc) => rc === 'KudosTransferNotEnough' || rc === 'KudosUpfront'),
    ).toBe(true);
    expect(lowest).toBeGreaterThanOrEqual(FLOOR);

    // The ledger: every account's balance is its journal, and nothing was minted or burnt out of thin air.
    const journal = await first!.readJournal();
    for (const account of await first!.listAccounts({ offset: 0, limit: 100, sort: 'age' })) {
      const rows = journal.filter((e) => e.accountId === account.id);
      expect(rows.reduce((sum, e) => sum + e.balanceDelta, 0)).toBe(account.balance);
    }
    const totals = await first!.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
    // Active jobs: what waits plus what is in flight, exactly.
    const waiting = await first!.listAccountRequests(spender.id);
    expect(after.activeJobs).toBe(waiting.reduce((sum, r) => sum + r.waiting + r.processing, 0));
    console.info(
      `1,000 concurrent operations on one account from 3 nodes: ${seconds.toFixed(2)} s, ${outcomes.done} done, refused ${JSON.stringify(Object.fromEntries(outcomes.refused))}, lowest balance ${lowest}`,
    );
    void fund;
  }, 120_000);

  it('forgives charges to an account resting on its floor on one stripe each, and a credit lifts it off', async () => {
    const [first] = nodes;
    const floor = -5_000; // the anonymous account's −50 kudos
    const resting = await createAccount(first!, { kind: 'anonymous', concurrency: 10_000 });
    const owner = await createAccount(first!);
    const worker = await checkIn(first!, { ownerId: owner.id });
    // Drain it onto the floor: the tax is stopped there, and the whole-account pass stamps it.
    await enqueue(first!, imageRequest(resting.id), { tax: 9_000, floor, concurrencyLimit: 10_000 });
    expect((await first!.getAccount(resting.id))!.balance).toBe(floor);
    const stamps = async () =>
      (
        await first!.pool.query('SELECT DISTINCT at_floor FROM account_money WHERE account_id = $1', [
          resting.id,
        ])
      ).rows.map((row) => row.at_floor);
    expect(await stamps()).toEqual([floor]);

    const before = (await first!.readJournal({ accountId: resting.id })).length;
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const node = nodes[i % nodes.length]!;
        const request = await enqueue(node, imageRequest(resting.id), {
          tax: 300,
          floor,
          concurrencyLimit: 10_000,
        });
        if (i % 2 === 0) {
          const [job] = await claim(node, request.id, worker);
          await complete(node, job!, { cost: 500, requesterFloor: floor, reward: 500 });
        }
      }),
    );
    const after = (await first!.getAccount(resting.id))!;
    expect(after.balance).toBe(floor);
    // Every tax and cost was charged and forgiven whole, each with its journal rows.
    const rows = (await first!.readJournal({ accountId: resting.id })).slice(before);
    const sum = (kind: string) =>
      rows.filter((e) => e.kind === kind).reduce((total, e) => total + e.balanceDelta, 0);
    expect(sum('activation')).toBe(-300 * 300);
    expect(sum('generation')).toBe(-150 * 500);
    expect(sum('floor')).toBe(300 * 300 + 150 * 500);
    expect(after.details.accumulated).toBe(-9_000 - 300 * 300 - 150 * 500);
    expect(await stamps()).toEqual([floor]);

    // A credit lifts it off the floor: the next tax is charged, not forgiven.
    await nodes[1]!.transfer({
      fromId: owner.id,
      toId: resting.id,
      amount: 1_000,
      senderFloor: 0,
      senderBucket: 'gifted',
      pingPongSince: T0 - MINUTE,
      idempotencyKey: null,
      at: T0,
    });
    expect(await stamps()).toEqual([null]);
    await enqueue(nodes[2]!, imageRequest(resting.id), { tax: 300, floor, concurrencyLimit: 10_000 });
    expect((await first!.getAccount(resting.id))!.balance).toBe(floor + 1_000 - 300);
    const totals = await first!.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
  }, 60_000);
});
