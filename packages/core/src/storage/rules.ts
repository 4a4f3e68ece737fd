/**
 * The rules every driver applies the same way: a debit stopped at a floor, a movement counted in its
 * `kudos_details` bucket, when a request is done. Pure functions, so the SQLite driver (on its records in
 * memory) and the PostgreSQL driver (on rows and an account's summed stripes) cannot drift apart.
 */
import type { Centikudos } from '../ledger/money.js';
import type { JournalEntry, KudosDetails, RequestRecord, TransferOp, TransferResult } from './types.js';

export const ZERO_DETAILS: Readonly<KudosDetails> = Object.freeze({
  accumulated: 0,
  gifted: 0,
  donated: 0,
  admin: 0,
  received: 0,
  recurring: 0,
  awarded: 0,
  styled: 0,
});

/**
 * A debit that stops at the floor: `new = max(balance − amount, floor)`. What the floor forgave is
 * returned so it can be journaled as minted (upstream's FLOOR_ADJUSTMENT).
 */
export function debitWithFloor(
  balance: Centikudos,
  amount: Centikudos,
  floor: Centikudos,
): { balance: Centikudos; forgiven: Centikudos } {
  if (amount <= 0) return { balance: balance - amount, forgiven: 0 };
  const raw = balance - amount;
  const next = Math.max(raw, floor);
  return { balance: next, forgiven: next - raw };
}

export function addToBucket(
  details: KudosDetails,
  bucket: keyof KudosDetails | null,
  amount: number,
): KudosDetails {
  if (bucket === null || amount === 0) return details;
  return { ...details, [bucket]: details[bucket] + amount };
}

/** An active request whose jobs are all accounted for (none waiting or in flight, all delivered) is done. */
export function settleRequestState(request: RequestRecord): RequestRecord {
  if (
    request.state === 'active' &&
    request.waiting === 0 &&
    request.processing === 0 &&
    request.finished >= request.jobs
  ) {
    return { ...request, state: 'done' };
  }
  return request;
}

/** A transfer's two journal rows (sender, recipient), referencing the transfer `id`. */
export function transferJournal(op: TransferOp, id: number): Omit<JournalEntry, 'id'>[] {
  const ref = `transfer:${id}`;
  return [
    {
      at: op.at,
      accountId: op.fromId,
      kind: 'transfer',
      balanceDelta: -op.amount,
      escrowDelta: 0,
      bucket: op.senderBucket,
      ref,
    },
    {
      at: op.at,
      accountId: op.toId,
      kind: 'transfer',
      balanceDelta: op.amount,
      escrowDelta: 0,
      bucket: 'received',
      ref,
    },
  ];
}

/** What a transfer that moved kudos answers. */
export function transferDone(op: TransferOp, id: number): TransferResult {
  const { fromId, toId, amount, idempotencyKey, at } = op;
  return { transfer: { id, fromId, toId, amount, idempotencyKey, at }, replayed: false };
}
