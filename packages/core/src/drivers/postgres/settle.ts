/**
 * Settling and failing a job, one transaction each: the job row is locked first (the first submit wins,
 * later ones see `done`), then its request, then the accounts in id order, then the worker.
 */
import { debitWithFloor, settleRequestState } from '../../storage/rules.js';
import type {
  CompleteOp,
  CompleteResult,
  FailOp,
  FailResult,
  JobRecord,
  JournalEntry,
  RequestRecord,
} from '../../storage/types.js';
import { writeJournal } from './accounts.js';
import {
  addToStripe,
  anyStripe,
  creditAccount,
  lockAccount,
  type MoneyDelta,
  settleAccount,
  tryGuardedAdd,
} from './money.js';
import { jobFromRow, requestFromRow } from './rows.js';
import { countCompletion } from './stats.js';
import type { Db } from './tx.js';

/** A request that ended gives its reservation back: the part of the account delta that releases it. */
export function releaseReservation(request: RequestRecord): { request: RequestRecord; release: number } {
  if (request.reserved === 0 || request.state === 'active') return { request, release: 0 };
  return { request: { ...request, reserved: 0 }, release: request.reserved };
}

export async function saveRequestCounters(db: Db, r: RequestRecord): Promise<void> {
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

/**
 * The request row, locked; the money stripe its charges and releases go to; and how many stripes its
 * account has (read in the same round trip).
 */
async function lockRequest(
  db: Db,
  id: string,
): Promise<{ request: RequestRecord; stripe: number; accountStripes: number }> {
  const { rows } = await db.query({
    name: 'hk_request_lock',
    text: `SELECT r.*, a.stripes AS account_stripes FROM requests r JOIN accounts a ON a.id = r.account_id
      WHERE r.id = $1 FOR UPDATE OF r`,
    values: [id],
  });
  const row = rows[0]!;
  return { request: requestFromRow(row), stripe: row.stripe, accountStripes: row.account_stripes };
}

export async function completeJob(db: Db, op: CompleteOp): Promise<CompleteResult> {
  // The job first (the first submit wins), with its worker owner's stripe count.
  const { rows } = await db.query({
    name: 'hk_job_lock_settle',
    text: `SELECT j.*, a.stripes AS owner_stripes FROM jobs j JOIN accounts a ON a.id = j.worker_owner_id
      WHERE j.id = $1 FOR UPDATE OF j`,
    values: [op.jobId],
  });
  if (!rows[0]) return { outcome: 'unknown' };
  const job = jobFromRow(rows[0]);
  if (job.workerId !== op.workerId) return { outcome: 'wrong-worker', job };
  if (job.state === 'done') return { outcome: 'duplicate', job };
  if (job.state !== 'processing') return { outcome: 'aborted', job };
  const ownerStripes: number = rows[0].owner_stripes;
  const { request, stripe: requestStripe, accountStripes } = await lockRequest(db, job.requestId);

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
    const stripes = accountStripes;
    const stripe = requestStripe;
    const guard = { floor: op.requesterFloor, need: op.cost - settled.release, forgivable: true };
    const fast = await tryGuardedAdd(db, request.accountId, stripe, stripes, requesterDelta, guard);
    if (fast?.path === 'forgiven') forgiven = op.cost;
    if (fast) return;
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
  const pay = async () => creditAccount(db, job.workerOwnerId, anyStripe(ownerStripes), ownerDelta);
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
