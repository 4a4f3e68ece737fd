/** Assertions shared by the conformance cases: error codes, journal movements, the ledger's invariants. */
import { expect } from 'vitest';
import { type HordeError, isHordeError, type ReturnCode } from '../../errors.js';
import type { AccountRecord, HordeStore, JournalEntry } from '../../storage/types.js';

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

export function allAccounts(store: HordeStore): Promise<AccountRecord[]> {
  return store.listAccounts({ offset: 0, limit: 100_000, sort: 'age' });
}

/** Awaits a rejection and checks its `rc`. */
export async function expectRc(promise: Promise<unknown>, rc: ReturnCode): Promise<HordeError> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if ('resolved' in outcome) expect.unreachable(`expected a HordeError with rc ${rc}, but it succeeded`);
  const error = (outcome as { error: unknown }).error;
  expect(isHordeError(error) ? error.rc : error).toBe(rc);
  return error as HordeError;
}

export type Movement = Pick<JournalEntry, 'kind' | 'balanceDelta' | 'escrowDelta' | 'bucket'>;

/** The account's journal rows that moved something (drivers may or may not write zero rows). */
export async function movements(store: HordeStore, accountId: number, afterId = 0): Promise<Movement[]> {
  const rows = await store.readJournal({ accountId, afterId });
  return rows
    .filter((e) => e.balanceDelta !== 0 || e.escrowDelta !== 0)
    .map(({ kind, balanceDelta, escrowDelta, bucket }) => ({ kind, balanceDelta, escrowDelta, bucket }));
}

export async function lastJournalId(store: HordeStore): Promise<number> {
  return (await store.readJournal()).at(-1)?.id ?? 0;
}

/** Σ journal deltas per account = balance and escrow; balances + escrow = minted − burnt. */
export async function expectLedgerConsistent(store: HordeStore): Promise<void> {
  const accounts = await allAccounts(store);
  const journal = await store.readJournal();
  for (const account of accounts) {
    const rows = journal.filter((e) => e.accountId === account.id);
    expect({
      account: account.id,
      balance: sum(rows.map((e) => e.balanceDelta)),
      escrow: sum(rows.map((e) => e.escrowDelta)),
    }).toEqual({ account: account.id, balance: account.balance, escrow: account.escrow });
  }
  const totals = await store.ledgerTotals();
  expect(totals.balances).toBe(sum(accounts.map((a) => a.balance)));
  expect(totals.escrow).toBe(sum(accounts.map((a) => a.escrow)));
  expect(totals.minted).toBeGreaterThanOrEqual(0);
  expect(totals.burnt).toBeGreaterThanOrEqual(0);
  expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
}

/** Every account's `activeJobs` equals Σ (waiting + processing) of its requests among `requestIds`. */
export async function expectActiveJobsConsistent(store: HordeStore, requestIds: string[]): Promise<void> {
  const expected = new Map<number, number>();
  for (const id of requestIds) {
    const request = await store.getRequest(id);
    if (!request) continue;
    expected.set(
      request.accountId,
      (expected.get(request.accountId) ?? 0) + request.waiting + request.processing,
    );
  }
  for (const account of await allAccounts(store)) {
    expect({ account: account.id, activeJobs: account.activeJobs }).toEqual({
      account: account.id,
      activeJobs: expected.get(account.id) ?? 0,
    });
  }
}
