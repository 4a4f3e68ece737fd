/**
 * Requests and jobs, from arrival to claim: enqueue (tax, reservation, concurrency), reads, and the claim
 * that locks the request row with SKIP LOCKED so a pop never waits behind another pop. Settling and
 * failing are in `settle.ts`, cancelling and expiring in `expiry.ts`. Row locks are taken in one order
 * everywhere: job, request, accounts by id (their stripes, see `money.ts`), worker, statistics.
 */

import { refuse } from '../../storage/refusals.js';
import { debitWithFloor } from '../../storage/rules.js';
import type { ClaimOp, EnqueueOp, JobRecord, RequestRecord } from '../../storage/types.js';
import { stripesOf, writeJournal } from './accounts.js';
import { anyStripe, lockAccount, type MoneyDelta, settleAccount, tryGuardedAdd } from './money.js';
import { jobFromRow, type Row, requestFromRow } from './rows.js';
import { type Db, isUniqueViolation } from './tx.js';

export async function enqueueRequest(db: Db, op: EnqueueOp): Promise<RequestRecord> {
  const { request: input } = op;
  const accountId = input.accountId;
  const stripes = await stripesOf(db, accountId);
  const stripe = anyStripe(stripes);
  const delta: MoneyDelta = {
    balance: -op.tax,
    reserved: op.reserve,
    active: input.jobs,
    details: { accumulated: -op.tax },
    usage: input.kind === 'image' ? { imageRequests: 1 } : { textRequests: 1 },
  };
  let balanceBefore: number;
  let forgiven = 0;
  const guard = {
    floor: op.floor,
    need: op.tax + op.reserve,
    limit: { limit: op.concurrencyLimit, add: input.jobs },
    forgivable: op.reserve === 0,
  };
  const fast = await tryGuardedAdd(db, accountId, stripe, stripes, delta, guard);
  if (fast) {
    // Resting on the floor, the tax was forgiven whole: the balance did not move.
    if (fast.path === 'forgiven') forgiven = op.tax;
    balanceBefore = fast.balanceBefore;
  } else {
    const locked = await lockAccount(db, accountId);
    const { totals } = locked;
    if (totals.active + input.jobs > op.concurrencyLimit) {
      throw refuse.tooManyPrompts(totals.active, input.jobs, op.concurrencyLimit);
    }
    if (op.reserve > 0) {
      const spendable = totals.balance - totals.reserved - op.floor;
      if (spendable < op.reserve) {
        throw refuse.kudosUpfront(op.reserve, spendable);
      }
    }
    balanceBefore = totals.balance;
    const debit = debitWithFloor(totals.balance, op.tax, op.floor);
    forgiven = debit.forgiven;
    await settleAccount(
      db,
      accountId,
      locked,
      stripe,
      { ...delta, balance: -op.tax + forgiven },
      { floor: op.floor, limit: op.concurrencyLimit },
    );
  }

  const priority = op.priorityOverride ?? balanceBefore / 100;
  const tick = Math.floor(input.createdAt / op.aging.intervalMs);
  let row: Row;
  try {
    const { rows } = await db.query(
      `INSERT INTO requests (id, kind, account_id, stripe, body, models, needs, pixels, max_length,
         max_context_length, things, job_price, priority, sort_key, seq, jobs, waiting, processing, finished,
         faults, state, created_at, expires_at, consumed, reserved, meta)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, nextval('request_seq'), $15, $15, 0, 0,
         0, 'active', $16, $17, $18, $19, $20)
       RETURNING *`,
      [
        input.id,
        input.kind,
        accountId,
        stripe,
        JSON.stringify(input.body),
        input.models,
        input.needs,
        input.pixels,
        input.maxLength,
        input.maxContextLength,
        input.things,
        input.jobPrice,
        priority,
        priority - op.aging.amount * tick,
        input.jobs,
        input.createdAt,
        input.expiresAt,
        op.tax,
        op.reserve,
        JSON.stringify(input.meta),
      ],
    );
    row = rows[0]!;
  } catch (error) {
    if (isUniqueViolation(error, 'requests_pkey')) {
      throw refuse.requestIdTaken(input.id);
    }
    throw error;
  }
  const base = { at: input.createdAt, accountId, escrowDelta: 0, ref: input.id };
  await writeJournal(db, [
    { ...base, kind: 'activation', balanceDelta: -op.tax, bucket: 'accumulated' },
    { ...base, kind: 'floor', balanceDelta: forgiven, bucket: null },
  ]);
  return requestFromRow(row);
}

export async function getRequest(db: Db, id: string): Promise<RequestRecord | undefined> {
  const { rows } = await db.query({
    name: 'hk_request_get',
    text: 'SELECT * FROM requests WHERE id = $1',
    values: [id],
  });
  return rows[0] ? requestFromRow(rows[0]) : undefined;
}

export async function getJob(db: Db, id: string): Promise<JobRecord | undefined> {
  const { rows } = await db.query({
    name: 'hk_job_get',
    text: 'SELECT * FROM jobs WHERE id = $1',
    values: [id],
  });
  return rows[0] ? jobFromRow(rows[0]) : undefined;
}

export async function listRequestJobs(db: Db, requestId: string): Promise<JobRecord[]> {
  const { rows } = await db.query(
    'SELECT * FROM jobs WHERE request_id = $1 ORDER BY created_at, batch_index',
    [requestId],
  );
  return rows.map(jobFromRow);
}

export async function listAccountRequests(db: Db, accountId: number): Promise<RequestRecord[]> {
  const { rows } = await db.query(
    "SELECT * FROM requests WHERE account_id = $1 AND state = 'active' ORDER BY seq DESC",
    [accountId],
  );
  return rows.map(requestFromRow);
}

/**
 * Hands out `min(count, waiting)` jobs of a request as one statement (atomic without a transaction round
 * trip): the request row is locked with SKIP LOCKED — another pop taking jobs of this request right now
 * means this pop looks elsewhere rather than wait — its counters move, and the jobs are inserted.
 */
export async function claimJobs(db: Db, op: ClaimOp): Promise<JobRecord[]> {
  const { rows } = await db.query({
    name: 'hk_claim',
    text: `WITH r AS (
        SELECT id, kind, things, least($3::integer, waiting, cardinality($1::text[]), cardinality($4::text[])) AS n
        FROM requests WHERE id = $2 AND state = 'active' AND waiting > 0
        FOR UPDATE SKIP LOCKED
      ), u AS (
        UPDATE requests q SET waiting = q.waiting - r.n, processing = q.processing + r.n,
          expires_at = greatest(q.expires_at, $5)
        FROM r WHERE q.id = r.id AND r.n > 0
        RETURNING q.id, q.kind, r.things, r.n
      )
      INSERT INTO jobs (id, request_id, kind, worker_id, worker_owner_id, model, seed, batch_index, state,
        created_at, lease_expires_at, things)
      SELECT t.id, u.id, u.kind, $6, $7, $8, t.seed, t.ord - 1, 'processing', $9, $10, u.things
      FROM u CROSS JOIN LATERAL unnest($1::text[], $4::text[]) WITH ORDINALITY AS t(id, seed, ord)
      WHERE t.ord <= u.n
      RETURNING *`,
    values: [
      op.ids,
      op.requestId,
      op.count,
      op.seeds,
      op.now + op.extendExpiryMs,
      op.workerId,
      op.workerOwnerId,
      op.model,
      op.now,
      op.now + op.leaseMs,
    ],
  });
  return rows.map(jobFromRow).sort((a, b) => a.batchIndex - b.batchIndex);
}
