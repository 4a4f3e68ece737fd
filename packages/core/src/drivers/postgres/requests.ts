/**
 * Requests and jobs: enqueue, claim, settle, fail, cancel, expire — one transaction each. Row locks are
 * taken in one order everywhere: job, request, accounts by id (their stripes, see `money.ts`), worker,
 * statistics. Claims lock the request row with SKIP LOCKED: a pop never waits behind another pop.
 */
import { HordeError } from '../../errors.js';
import { debitWithFloor } from '../../storage/ledger-rules.js';
import type {
  ClaimOp,
  CompleteOp,
  CompleteResult,
  EnqueueOp,
  FailOp,
  FailResult,
  JobRecord,
  JournalEntry,
  RequestRecord,
} from '../../storage/types.js';
import { stripesOf, writeJournal } from './accounts.js';
import {
  addToStripe,
  anyStripe,
  lockAccount,
  type MoneyDelta,
  settleAccount,
  tryGuardedAdd,
} from './money.js';
import { jobFromRow, type Row, requestFromRow } from './rows.js';
import { countCompletion } from './stats.js';
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
  };
  if (await tryGuardedAdd(db, accountId, stripe, stripes, delta, guard)) {
    const { rows } = await db.query<{ balance: number }>(
      'SELECT sum(balance)::bigint AS balance FROM account_money WHERE account_id = $1',
      [accountId],
    );
    balanceBefore = rows[0]!.balance + op.tax;
  } else {
    const locked = await lockAccount(db, accountId);
    const { totals } = locked;
    if (totals.active + input.jobs > op.concurrencyLimit) {
      throw new HordeError(
        'TooManyPrompts',
        `You already have ${totals.active} jobs waiting or in progress, and at most ${op.concurrencyLimit} are allowed at once. Wait for some to finish and try again.`,
        { details: { active: totals.active, requested: input.jobs, limit: op.concurrencyLimit } },
      );
    }
    if (op.reserve > 0) {
      const spendable = totals.balance - totals.reserved - op.floor;
      if (spendable < op.reserve) {
        throw new HordeError(
          'KudosUpfront',
          'This request needs kudos up front, and the account does not have enough.',
          {
            details: { required: op.reserve / 100, available: Math.max(0, spendable) / 100 },
          },
        );
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
    await db.query('SAVEPOINT enqueue_insert');
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
      throw new HordeError('BadRequest', 'A request with this id already exists.', {
        details: { id: input.id },
      });
    }
    throw error;
  }
  await db.query('RELEASE SAVEPOINT enqueue_insert');
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

export async function claimJobs(db: Db, op: ClaimOp): Promise<JobRecord[]> {
  // Another pop holding the row is taking jobs of this request right now: look elsewhere, never wait.
  const { rows } = await db.query({
    name: 'hk_claim_lock',
    text: 'SELECT * FROM requests WHERE id = $1 FOR UPDATE SKIP LOCKED',
    values: [op.requestId],
  });
  const row = rows[0];
  if (row?.state !== 'active' || row.waiting === 0) return [];
  const count = Math.min(op.count, row.waiting, op.ids.length, op.seeds.length);
  if (count <= 0) return [];
  const ids = op.ids.slice(0, count);
  await db.query({
    name: 'hk_claim_update',
    text: `UPDATE requests SET waiting = waiting - $2, processing = processing + $2,
      expires_at = greatest(expires_at, $3) WHERE id = $1`,
    values: [op.requestId, count, op.now + op.extendExpiryMs],
  });
  const inserted = await db.query({
    name: 'hk_claim_insert',
    text: `INSERT INTO jobs (id, request_id, kind, worker_id, worker_owner_id, model, seed, batch_index, state,
        created_at, lease_expires_at, things)
      SELECT id, $2, $3, $4, $5, $6, seed, ord - 1, 'processing', $7, $8, $9
      FROM unnest($1::text[], $10::text[]) WITH ORDINALITY AS t(id, seed, ord)
      RETURNING *`,
    values: [
      ids,
      op.requestId,
      row.kind,
      op.workerId,
      op.workerOwnerId,
      op.model,
      op.now,
      op.now + op.leaseMs,
      row.things,
      op.seeds.slice(0, count),
    ],
  });
  return inserted.rows.map(jobFromRow).sort((a, b) => a.batchIndex - b.batchIndex);
}

/** Ends a request whose jobs are all accounted for. */
function settleRequestState(request: RequestRecord): RequestRecord {
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

/** A request that ended gives its reservation back: the part of the account delta that releases it. */
function releaseReservation(request: RequestRecord): { request: RequestRecord; release: number } {
  if (request.reserved === 0 || request.state === 'active') return { request, release: 0 };
  return { request: { ...request, reserved: 0 }, release: request.reserved };
}

async function saveRequestCounters(db: Db, r: RequestRecord): Promise<void> {
  await db.query({
    name: 'hk_request_save',
    text: `UPDATE requests SET jobs = $2, waiting = $3, processing = $4, finished = $5, faults = $6, state = $7,
      expires_at = $8, consumed = $9, reserved = $10 WHERE id = $1`,
    values: [
      r.id,
      r.jobs,
      r.waiting,
      r.processing,
      r.finished,
      r.faults,
      r.state,
      r.expiresAt,
      r.consumed,
      r.reserved,
    ],
  });
}

/** The request row, locked, and the money stripe its charges and releases go to. */
async function lockRequest(db: Db, id: string): Promise<{ request: RequestRecord; stripe: number }> {
  const { rows } = await db.query({
    name: 'hk_request_lock',
    text: 'SELECT * FROM requests WHERE id = $1 FOR UPDATE',
    values: [id],
  });
  return { request: requestFromRow(rows[0]!), stripe: rows[0]!.stripe };
}

export async function completeJob(db: Db, op: CompleteOp): Promise<CompleteResult> {
  const { rows } = await db.query({
    name: 'hk_job_lock',
    text: 'SELECT * FROM jobs WHERE id = $1 FOR UPDATE',
    values: [op.jobId],
  });
  if (!rows[0]) return { outcome: 'unknown' };
  const job = jobFromRow(rows[0]);
  if (job.workerId !== op.workerId) return { outcome: 'wrong-worker', job };
  if (job.state === 'done') return { outcome: 'duplicate', job };
  if (job.state !== 'processing') return { outcome: 'aborted', job };
  const { request, stripe: requestStripe } = await lockRequest(db, job.requestId);

  const doneJob: JobRecord = {
    ...job,
    state: 'done',
    result: op.result,
    completedAt: op.now,
    reward: op.reward + op.escrow,
    cost: op.cost,
  };
  const settled = releaseReservation(
    settleRequestState({
      ...request,
      processing: request.processing - 1,
      finished: request.finished + 1,
      consumed: request.consumed + op.cost,
      expiresAt: Math.max(request.expiresAt, op.retainUntil),
    }),
  );
  const nextRequest = settled.request;

  await db.query({
    name: 'hk_job_done',
    text: "UPDATE jobs SET state = 'done', result = $2, completed_at = $3, reward = $4, cost = $5 WHERE id = $1",
    values: [job.id, JSON.stringify(op.result), op.now, doneJob.reward, doneJob.cost],
  });
  await saveRequestCounters(db, nextRequest);

  const workMps = request.kind === 'image' ? job.things / 1e6 : 0;
  const workTokens = request.kind === 'text' ? job.things : 0;
  const requesterDelta: MoneyDelta = {
    balance: -op.cost,
    reserved: -settled.release,
    active: -1,
    details: { accumulated: -op.cost },
    usage: { megapixelsteps: workMps, tokens: workTokens },
  };
  const ownerDelta: MoneyDelta = {
    balance: op.reward,
    escrow: op.escrow,
    details: { accumulated: op.reward },
    contribution: {
      megapixelsteps: workMps,
      tokens: workTokens,
      imagesFulfilled: request.kind === 'image' ? 1 : 0,
      textsFulfilled: request.kind === 'text' ? 1 : 0,
    },
  };
  let forgiven = 0;
  const charge = async () => {
    const stripes = await stripesOf(db, request.accountId);
    const stripe = requestStripe;
    const guard = { floor: op.requesterFloor, need: op.cost - settled.release };
    if (await tryGuardedAdd(db, request.accountId, stripe, stripes, requesterDelta, guard)) return;
    const locked = await lockAccount(db, request.accountId);
    forgiven = debitWithFloor(locked.totals.balance, op.cost, op.requesterFloor).forgiven;
    await settleAccount(
      db,
      request.accountId,
      locked,
      stripe,
      { ...requesterDelta, balance: -op.cost + forgiven },
      {
        floor: op.requesterFloor,
      },
    );
  };
  const pay = async () =>
    addToStripe(db, job.workerOwnerId, anyStripe(await stripesOf(db, job.workerOwnerId)), ownerDelta);
  // Accounts in id order; the owner may be the requester (charged first, then paid, like one row).
  if (job.workerOwnerId < request.accountId) {
    await pay();
    await charge();
  } else {
    await charge();
    await pay();
  }

  await db.query({
    name: 'hk_worker_settle',
    text: `UPDATE workers SET
      speed_samples = CASE WHEN $2::double precision IS NULL THEN speed_samples
        ELSE (speed_samples || $2::double precision)[greatest(1, cardinality(speed_samples) + 2 - $3):] END,
      requests_fulfilled = requests_fulfilled + 1, kudos_generated = kudos_generated + $4,
      things_generated = things_generated + $5
      WHERE id = $1`,
    values: [job.workerId, op.speedSample, op.speedSamples, op.reward + op.escrow, job.things],
  });
  const base = { at: op.now, ref: job.id };
  await writeJournal(db, [
    {
      ...base,
      accountId: request.accountId,
      kind: 'generation',
      balanceDelta: -op.cost,
      escrowDelta: 0,
      bucket: 'accumulated',
    },
    {
      ...base,
      accountId: request.accountId,
      kind: 'floor',
      balanceDelta: forgiven,
      escrowDelta: 0,
      bucket: null,
    },
    {
      ...base,
      accountId: job.workerOwnerId,
      kind: 'reward',
      balanceDelta: op.reward,
      escrowDelta: op.escrow,
      bucket: 'accumulated',
    },
  ] satisfies Omit<JournalEntry, 'id'>[]);
  await countCompletion(db, doneJob, op.now);
  return { outcome: 'settled', job: doneJob, request: nextRequest };
}

export async function failJob(db: Db, op: FailOp): Promise<FailResult | undefined> {
  const { rows } = await db.query({
    name: 'hk_job_lock',
    text: 'SELECT * FROM jobs WHERE id = $1 FOR UPDATE',
    values: [op.jobId],
  });
  if (rows[0]?.state !== 'processing') return undefined;
  const job = jobFromRow(rows[0]);
  const { request, stripe: requestStripe } = await lockRequest(db, job.requestId);
  const failedJob: JobRecord = { ...job, state: op.reason, completedAt: op.now };
  const faults = request.faults + 1;
  const faultsRequest = request.state === 'active' && faults >= op.faultAfter;
  let next: RequestRecord = { ...request, processing: request.processing - 1, faults };
  let active = 0;
  if (faultsRequest) {
    // The whole request fails: what still waits is dropped.
    active = -1 - next.waiting;
    next = { ...next, state: 'faulted', waiting: 0 };
  } else if (request.state === 'active') {
    next = { ...next, waiting: next.waiting + 1 };
  } else {
    // A cancelled (or already faulted) request: the failed job will never be delivered.
    active = -1;
    if (request.state === 'cancelled') next = { ...next, jobs: next.jobs - 1 };
  }
  const released = releaseReservation(next);
  next = released.request;

  await db.query({
    name: 'hk_job_fail',
    text: 'UPDATE jobs SET state = $2, result = NULL, completed_at = $3, reward = 0, cost = 0 WHERE id = $1',
    values: [job.id, op.reason, op.now],
  });
  await saveRequestCounters(db, next);
  if (active !== 0 || released.release !== 0) {
    await addToStripe(db, request.accountId, requestStripe, { active, reserved: -released.release });
  }
  const { rows: workerRows } = await db.query<{ recent_aborts: number[] }>({
    name: 'hk_worker_fail',
    text: `UPDATE workers SET
      recent_aborts = ARRAY(SELECT at FROM unnest(recent_aborts) AS at WHERE at > $2 ORDER BY at)
        || CASE WHEN $3 THEN ARRAY[$4::bigint] ELSE '{}'::bigint[] END,
      uncompleted_jobs = uncompleted_jobs + 1
      WHERE id = $1 RETURNING recent_aborts`,
    values: [job.workerId, op.now - op.abortWindowMs, op.reason === 'aborted', op.now],
  });
  return {
    job: failedJob,
    request: next,
    requestFaulted: faultsRequest,
    workerRecentAborts: workerRows[0]?.recent_aborts.length ?? 0,
  };
}

export async function listExpiredLeases(db: Db, now: number, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM jobs WHERE state = 'processing' AND lease_expires_at <= $1 ORDER BY lease_expires_at LIMIT $2`,
    [now, limit],
  );
  return rows.map(jobFromRow);
}

export async function cancelRequest(db: Db, id: string): Promise<RequestRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM requests WHERE id = $1 FOR UPDATE', [id]);
  if (!rows[0] || rows[0].state === 'expired') return undefined;
  const request = requestFromRow(rows[0]);
  if (request.state !== 'active') return request;
  const released = releaseReservation({
    ...request,
    jobs: request.finished + request.processing,
    waiting: 0,
    state: 'cancelled',
  });
  await saveRequestCounters(db, released.request);
  await addToStripe(db, request.accountId, rows[0].stripe, {
    active: -request.waiting,
    reserved: -released.release,
  });
  return request;
}

/**
 * Requests past their expiry with no job in flight become `expired`, their jobs deleted; the account
 * changes are applied after, in account order. Rows another transaction holds are left for the next pass.
 */
export async function expireRequests(
  db: Db,
  now: number,
  limit: number,
  expiredRetentionMs: number,
): Promise<RequestRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM requests WHERE state <> 'expired' AND expires_at <= $1 AND processing = 0
     ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  const expired = rows
    .map(requestFromRow)
    .map((r) => ({ ...r, state: 'expired' as const, waiting: 0, reserved: 0 }));
  const changes = new Map<string, { accountId: number; stripe: number; active: number; reserved: number }>();
  for (const row of rows) {
    const key = `${row.account_id}:${row.stripe}`;
    const change = changes.get(key) ?? {
      accountId: row.account_id,
      stripe: row.stripe,
      active: 0,
      reserved: 0,
    };
    change.active -= row.waiting;
    change.reserved -= row.reserved;
    changes.set(key, change);
  }
  if (expired.length > 0) {
    const ids = expired.map((r) => r.id);
    await db.query(
      "UPDATE requests SET state = 'expired', waiting = 0, reserved = 0 WHERE id = ANY($1::text[])",
      [ids],
    );
    await db.query('DELETE FROM jobs WHERE request_id = ANY($1::text[])', [ids]);
    const ordered = [...changes.values()].sort((a, b) => a.accountId - b.accountId || a.stripe - b.stripe);
    for (const change of ordered) {
      if (change.active === 0 && change.reserved === 0) continue;
      await addToStripe(db, change.accountId, change.stripe, {
        active: change.active,
        reserved: change.reserved,
      });
    }
  }
  // Tombstones of requests that expired long ago go, oldest first, a bounded batch per sweep.
  await db.query(
    `DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE state = 'expired' AND expires_at <= $1
       ORDER BY expires_at LIMIT 10000 FOR UPDATE SKIP LOCKED)`,
    [now - expiredRetentionMs],
  );
  return expired;
}
