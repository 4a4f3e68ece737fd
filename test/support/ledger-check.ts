/**
 * The ledger's two invariants, checked on a store after the fact: every total is an exact integer with
 * balances + escrow = minted − burnt, and replaying the journal gives every account's balance and escrow.
 */
import type { HordeStore } from '@hordekit/core';
import { expect } from 'vitest';

export async function expectConsistentLedger(store: HordeStore): Promise<void> {
  const totals = await store.ledgerTotals();
  expect(Object.values(totals).every(Number.isSafeInteger), `ledger totals ${JSON.stringify(totals)}`).toBe(
    true,
  );
  expect(totals.balances + totals.escrow, 'balances + escrow = minted − burnt').toBe(
    totals.minted - totals.burnt,
  );
  const replayed = new Map<number, { balance: number; escrow: number }>();
  for (const entry of await store.readJournal()) {
    const sums = replayed.get(entry.accountId) ?? { balance: 0, escrow: 0 };
    sums.balance += entry.balanceDelta;
    sums.escrow += entry.escrowDelta;
    replayed.set(entry.accountId, sums);
  }
  for (const account of await store.listAccounts({ offset: 0, limit: 1000, sort: 'age' })) {
    expect({ id: account.id, balance: account.balance, escrow: account.escrow }, 'journal replay').toEqual({
      id: account.id,
      ...(replayed.get(account.id) ?? { balance: 0, escrow: 0 }),
    });
  }
}
