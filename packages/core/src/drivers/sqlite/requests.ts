/** Requests and jobs: enqueue, claim, settle, fail, cancel, expire. One SQLite transaction each. */
import { refuse } from '../../storage/refusals.js';
import { settleRequestState } from '../../storage/rules.js';
import type {
  AccountRecord,
  ClaimOp,
  CompleteOp,
  CompleteResult,
  EnqueueOp,
  FailOp,
  FailResult,
  JobRecord,
  RequestRecord,
  WorkerRecord,
} from '../../storage/types.js';
import { addToBucket, debitWithFloor, requireAccount } from './accounts.js';
import { applyStatsChange, planStatsChange, writeStatsChange } from './generation-stats.js';
import { type JobRow, jobFromRow, jobToRow, type RequestRow, requestFromRow, requestToRow } from './rows.js';
import {
  addJob,
  type SqliteState,
  saveAccountMoney,
  saveRequestCounters,
  saveWorkerProgress,
  snapshot,
  writeJournal,
} from './state.js';

export function enqueueRequest(s: SqliteState, op: EnqueueOp): RequestRecord {
  const account = requireAccount(s, op.request.accountId);
  if (s.requests.has(op.request.id)) {
    throw refuse.requestIdTaken(op.request.id);
  }
  if (account.activeJobs + op.request.jobs > op.concurrencyLimit) {
    throw refuse.tooManyPrompts(account.activeJobs, op.request.jobs, op.concurrencyLimit);
  }
  if (op.reserve > 0) {
    const spendable = account.balance - account.reserved - op.floor;
    if (spendable < op.reserve) {
      throw refuse.kudosUpfront(op.reserve, spendable);
    }
  }

  const priority = op.priorityOverride ?? account.balance / 100;
  const tick = Math.floor(op.request.createdAt / op.aging.intervalMs);
  // Every field listed, in `requestFromRow`'s order, rather than `{ ...op.request, priority, … }`: V8 gave
  // each record built by that spread a hidden class of its own (~700 bytes each, 70 MB at 100,000 waiting
  // requests). Records that live in memory share one this way, whether enqueued or loaded at start-up.
  const { request: input } = op;
  const request: RequestRecord = {
    id: input.id,
    kind: input.kind,
    accountId: input.accountId,
    body: input.body,
    models: input.models,
    needs: input.needs,
    pixels: input.pixels,
    maxLength: input.maxLength,
    maxContextLength: input.maxContextLength,
    things: input.things,
    jobPrice: input.jobPrice,
    priority,
    sortKey: priority - op.aging.amount * tick,
    seq: s.nextSeq,
    jobs: input.jobs,
    waiting: input.jobs,
    processing: 0,
    finished: 0,
    faults: 0,
    state: 'active',
    createdAt: input.createdAt,
    expiresAt: input.expiresAt,
    consumed: op.tax,
    reserved: op.reserve,
    meta: input.meta,
  };
  const debit = debitWithFloor(account.balance, op.tax, op.floor);
  const usage = { ...account.usage };
  if (request.kind === 'image') usage.imageRequests += 1;
  else usage.textRequests += 1;
  const nextAccount: AccountRecord = {
    ...account,
    balance: debit.balance,
    reserved: account.reserved + op.reserve,
    details: addToBucket(account.details, 'accumulated', -op.tax),
    usage,
    activeJobs: account.activeJobs + request.jobs,
  };

  s.atomically(() => {
    s.stmt.insertRequest.run(requestToRow(request));
    saveAccountMoney(s, nextAccount);
    writeJournal(s, [
      {
        at: request.createdAt,
        accountId: account.id,
        kind: 'activation',
        balanceDelta: -op.tax,
        escrowDelta: 0,
        bucket: 'accumulated',
        ref: request.id,
      },
      {
        at: request.createdAt,
        accountId: account.id,
        kind: 'floor',
        balanceDelta: debit.forgiven,
        escrowDelta: 0,
        bucket: null,
        ref: request.id,
      },
    ]);
  });
  s.nextSeq += 1;
  s.accounts.set(account.id, nextAccount);
  s.requests.set(request.id, request);
  s.queue.sync(request);
  return snapshot(request);
}

export function getRequest(s: SqliteState, id: string): RequestRecord | undefined {
  const live = s.requests.get(id);
  if (live) return snapshot(live);
  const row = s.stmt.selectRequest.get(id) as RequestRow | undefined;
  return row ? requestFromRow(row) : undefined;
}

export function getJob(s: SqliteState, id: string): JobRecord | undefined {
  const live = s.jobs.get(id);
  if (live) return snapshot(live);
  const row = s.stmt.selectJob.get(id) as JobRow | undefined;
  return row ? jobFromRow(row) : undefined;
}

export function listRequestJobs(s: SqliteState, requestId: string): JobRecord[] {
  const ids = s.jobsByRequest.get(requestId);
  if (!ids) return [];
  return [...ids]
    .map((id) => snapshot(s.jobs.get(id)!))
    .sort((a, b) => a.createdAt - b.createdAt || a.batchIndex - b.batchIndex);
}

export function claimJobs(s: SqliteState, op: ClaimOp): JobRecord[] {
  const request = s.requests.get(op.requestId);
  if (request?.state !== 'active' || request.waiting === 0) return [];
  const count = Math.min(op.count, request.waiting, op.ids.length, op.seeds.length);
  if (count <= 0) return [];
  const jobs: JobRecord[] = [];
  for (let i = 0; i < count; i++) {
    jobs.push({
      id: op.ids[i]!,
      requestId: request.id,
      kind: request.kind,
      workerId: op.workerId,
      workerOwnerId: op.workerOwnerId,
      model: op.model,
      seed: op.seeds[i]!,
      batchIndex: i,
      state: 'processing',
      createdAt: op.now,
      leaseExpiresAt: op.now + op.leaseMs,
      things: request.things,
      result: null,
      completedAt: null,
      reward: 0,
      cost: 0,
    });
  }
  const next: RequestRecord = {
    ...request,
    waiting: request.waiting - count,
    processing: request.processing + count,
    expiresAt: Math.max(request.expiresAt, op.now + op.extendExpiryMs),
  };
  s.atomically(() => {
    for (const job of jobs) s.stmt.insertJob.run(jobToRow(job));
    saveRequestCounters(s, next);
  });
  s.requests.set(next.id, next);
  s.queue.sync(next);
  for (const job of jobs) addJob(s, job);
  return jobs.map(snapshot);
}

function releaseReservation(account: AccountRecord, request: RequestRecord): [AccountRecord, RequestRecord] {
  if (request.reserved === 0 || request.state === 'active') return [account, request];
  return [
    { ...account, reserved: account.reserved - request.reserved },
    { ...request, reserved: 0 },
  ];
}

export function completeJob(s: SqliteState, op: CompleteOp): CompleteResult {
  const job = s.jobs.get(op.jobId);
  if (!job) {
    const stored = getJob(s, op.jobId);
    return stored ? { outcome: 'aborted', job: stored } : { outcome: 'unknown' };
  }
  if (job.workerId !== op.workerId) return { outcome: 'wrong-worker', job: snapshot(job) };
  if (job.state === 'done') return { outcome: 'duplicate', job: snapshot(job) };
  if (job.state !== 'processing') return { outcome: 'aborted', job: snapshot(job) };
  const request = s.requests.get(job.requestId)!;
  const worker = s.workers.get(job.workerId);

  const doneJob: JobRecord = {
    ...job,
    state: 'done',
    result: op.result,
    completedAt: op.now,
    reward: op.reward + op.escrow,
    cost: op.cost,
  };
  let nextRequest = settleRequestState({
    ...request,
    processing: request.processing - 1,
    finished: request.finished + 1,
    consumed: request.consumed + op.cost,
    expiresAt: Math.max(request.expiresAt, op.retainUntil),
  });

  // Requester pays (burn, stopped at the floor); then the owner is paid (mint). They may be one account.
  const accounts = new Map<number, AccountRecord>();
  const get = (id: number) => accounts.get(id) ?? requireAccount(s, id);
  const requester = get(request.accountId);
  const debit = debitWithFloor(requester.balance, op.cost, op.requesterFloor);
  const workMps = request.kind === 'image' ? job.things / 1e6 : 0;
  const workTokens = request.kind === 'text' ? job.things : 0;
  let nextRequester: AccountRecord = {
    ...requester,
    balance: debit.balance,
    details: addToBucket(requester.details, 'accumulated', -op.cost),
    usage: {
      ...requester.usage,
      megapixelsteps: requester.usage.megapixelsteps + workMps,
      tokens: requester.usage.tokens + workTokens,
    },
    activeJobs: requester.activeJobs - 1,
  };
  [nextRequester, nextRequest] = releaseReservation(nextRequester, nextRequest);
  accounts.set(nextRequester.id, nextRequester);
  const owner = get(job.workerOwnerId);
  const nextOwner: AccountRecord = {
    ...owner,
    balance: owner.balance + op.reward,
    escrow: owner.escrow + op.escrow,
    details: addToBucket(owner.details, 'accumulated', op.reward),
    contribution: {
      megapixelsteps: owner.contribution.megapixelsteps + workMps,
      tokens: owner.contribution.tokens + workTokens,
      imagesFulfilled: owner.contribution.imagesFulfilled + (request.kind === 'image' ? 1 : 0),
      textsFulfilled: owner.contribution.textsFulfilled + (request.kind === 'text' ? 1 : 0),
    },
  };
  accounts.set(nextOwner.id, nextOwner);

  let nextWorker: WorkerRecord | undefined;
  if (worker) {
    const samples =
      op.speedSample === null
        ? worker.speedSamples
        : [...worker.speedSamples, op.speedSample].slice(
            Math.max(0, worker.speedSamples.length + 1 - op.speedSamples),
          );
    nextWorker = {
      ...worker,
      speedSamples: samples,
      stats: {
        ...worker.stats,
        requestsFulfilled: worker.stats.requestsFulfilled + 1,
        kudosGenerated: worker.stats.kudosGenerated + op.reward + op.escrow,
        thingsGenerated: worker.stats.thingsGenerated + job.things,
      },
    };
  }

  const stats = planStatsChange(s, doneJob, op.now);
  s.atomically(() => {
    s.stmt.saveJob.run('done', JSON.stringify(op.result), op.now, doneJob.reward, doneJob.cost, job.id);
    saveRequestCounters(s, nextRequest);
    for (const account of accounts.values()) saveAccountMoney(s, account);
    if (nextWorker) saveWorkerProgress(s, nextWorker);
    writeJournal(s, [
      {
        at: op.now,
        accountId: requester.id,
        kind: 'generation',
        balanceDelta: -op.cost,
        escrowDelta: 0,
        bucket: 'accumulated',
        ref: job.id,
      },
      {
        at: op.now,
        accountId: requester.id,
        kind: 'floor',
        balanceDelta: debit.forgiven,
        escrowDelta: 0,
        bucket: null,
        ref: job.id,
      },
      {
        at: op.now,
        accountId: owner.id,
        kind: 'reward',
        balanceDelta: op.reward,
        escrowDelta: op.escrow,
        bucket: 'accumulated',
        ref: job.id,
      },
    ]);
    writeStatsChange(s, stats);
  });
  applyStatsChange(s, stats);
  for (const account of accounts.values()) s.accounts.set(account.id, account);
  if (nextWorker) s.workers.set(nextWorker.id, nextWorker);
  s.requests.set(nextRequest.id, nextRequest);
  addJob(s, doneJob);
  s.queue.sync(nextRequest);
  return { outcome: 'settled', job: snapshot(doneJob), request: snapshot(nextRequest) };
}

export function failJob(s: SqliteState, op: FailOp): FailResult | undefined {
  const job = s.jobs.get(op.jobId);
  if (job?.state !== 'processing') return undefined;
  const request = s.requests.get(job.requestId)!;
  const worker = s.workers.get(job.workerId);
  const failedJob: JobRecord = { ...job, state: op.reason, completedAt: op.now };
  const faults = request.faults + 1;
  const faultsRequest = request.state === 'active' && faults >= op.faultAfter;
  let next: RequestRecord = { ...request, processing: request.processing - 1, faults };
  let account = requireAccount(s, request.accountId);
  if (faultsRequest) {
    // The whole request fails: what still waits is dropped.
    account = { ...account, activeJobs: account.activeJobs - 1 - next.waiting };
    next = { ...next, state: 'faulted', waiting: 0 };
  } else if (request.state === 'active') {
    next = { ...next, waiting: next.waiting + 1 };
  } else {
    // A cancelled (or already faulted) request: the failed job will never be delivered, so it no longer
    // counts towards the jobs the request is waiting for.
    account = { ...account, activeJobs: account.activeJobs - 1 };
    if (request.state === 'cancelled') next = { ...next, jobs: next.jobs - 1 };
  }
  [account, next] = releaseReservation(account, next);

  let nextWorker: WorkerRecord | undefined;
  if (worker) {
    const recent = worker.recentAborts.filter((at) => at > op.now - op.abortWindowMs);
    if (op.reason === 'aborted') recent.push(op.now);
    nextWorker = {
      ...worker,
      recentAborts: recent,
      stats: { ...worker.stats, uncompletedJobs: worker.stats.uncompletedJobs + 1 },
    };
  }
  s.atomically(() => {
    s.stmt.saveJob.run(failedJob.state, null, op.now, 0, 0, job.id);
    saveRequestCounters(s, next);
    saveAccountMoney(s, account);
    if (nextWorker) saveWorkerProgress(s, nextWorker);
  });
  s.accounts.set(account.id, account);
  s.requests.set(next.id, next);
  s.queue.sync(next);
  addJob(s, failedJob);
  if (nextWorker) s.workers.set(nextWorker.id, nextWorker);
  return {
    job: snapshot(failedJob),
    request: snapshot(next),
    requestFaulted: faultsRequest,
    workerRecentAborts: nextWorker?.recentAborts.length ?? 0,
  };
}

export function listExpiredLeases(s: SqliteState, now: number, limit: number): JobRecord[] {
  const out: JobRecord[] = [];
  for (const id of s.processing) {
    const job = s.jobs.get(id)!;
    if (out.length >= limit) break;
    if (job.leaseExpiresAt <= now) out.push(snapshot(job));
  }
  return out;
}

export function cancelRequest(s: SqliteState, id: string, _now: number): RequestRecord | undefined {
  const request = s.requests.get(id);
  if (!request) return undefined;
  if (request.state !== 'active') return snapshot(request);
  let account = requireAccount(s, request.accountId);
  let next: RequestRecord = {
    ...request,
    jobs: request.finished + request.processing,
    waiting: 0,
    state: 'cancelled',
  };
  account = { ...account, activeJobs: account.activeJobs - request.waiting };
  [account, next] = releaseReservation(account, next);
  s.atomically(() => {
    saveRequestCounters(s, next);
    saveAccountMoney(s, account);
  });
  s.accounts.set(account.id, account);
  s.requests.set(id, next);
  s.queue.sync(next);
  return snapshot(request);
}

export function expireRequests(s: SqliteState, now: number, limit: number): RequestRecord[] {
  const expired: RequestRecord[] = [];
  for (const request of s.requests.values()) {
    if (expired.length >= limit) break;
    if (request.expiresAt > now || request.processing > 0) continue;
    let account = requireAccount(s, request.accountId);
    let next: RequestRecord = { ...request, state: 'expired', waiting: 0 };
    account = { ...account, activeJobs: account.activeJobs - request.waiting };
    if (next.reserved > 0) {
      account = { ...account, reserved: account.reserved - next.reserved };
      next = { ...next, reserved: 0 };
    }
    s.atomically(() => {
      saveRequestCounters(s, next);
      saveAccountMoney(s, account);
      for (const jobId of s.jobsByRequest.get(request.id) ?? []) s.stmt.deleteJob.run(jobId);
    });
    s.accounts.set(account.id, account);
    s.requests.delete(request.id);
    s.queue.sync(next);
    for (const jobId of s.jobsByRequest.get(request.id) ?? []) {
      s.jobs.delete(jobId);
      s.processing.delete(jobId);
    }
    s.jobsByRequest.delete(request.id);
    expired.push(snapshot(next));
  }
  // Tombstones of requests that expired long ago go, oldest first, a bounded batch per sweep; so do
  // statistics buckets due for folding, should no settle have folded them.
  const stats = planStatsChange(s, null, now);
  s.atomically(() => {
    s.stmt.purgeExpired.run(now - s.expiredRetentionMs, 10_000);
    writeStatsChange(s, stats);
  });
  applyStatsChange(s, stats);
  return expired;
}

export function listAccountRequests(s: SqliteState, accountId: number): RequestRecord[] {
  const out: RequestRecord[] = [];
  for (const request of s.requests.values()) {
    if (request.accountId === accountId && request.state === 'active') out.push(snapshot(request));
  }
  return out.sort((a, b) => b.seq - a.seq);
}
