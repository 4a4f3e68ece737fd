/** Row ↔ record mapping for the PostgreSQL driver. `pg` parses json and arrays; bigints come back as numbers (see `tx.ts`). */
import type {
  AccountRecord,
  JobRecord,
  JournalEntry,
  RequestRecord,
  TransferRecord,
  WorkerRecord,
} from '../../storage/types.js';
import { emptyRoles } from '../sqlite/rows.js';
import { MONEY_SUMS, sumRows } from './money.js';

// biome-ignore lint/suspicious/noExplicitAny: rows are whatever the query selected
export type Row = Record<string, any>;

/** An account with its stripes summed. */
export const ACCOUNT_SELECT = `SELECT a.*, s.* FROM accounts a CROSS JOIN LATERAL
  (SELECT ${MONEY_SUMS} FROM account_money m WHERE m.account_id = a.id) s`;

export function accountFromRow(row: Row): AccountRecord {
  const money = sumRows([row]);
  return {
    id: row.id,
    username: row.username,
    kind: row.kind,
    roles: { ...emptyRoles(), ...row.roles },
    createdAt: row.created_at,
    concurrency: row.concurrency,
    balance: money.balance,
    escrow: money.escrow,
    reserved: money.reserved,
    details: money.details,
    usage: money.usage,
    contribution: money.contribution,
    activeJobs: money.active,
    contact: row.contact,
    publicWorkers: row.public_workers,
  };
}

export function requestFromRow(row: Row): RequestRecord {
  return {
    id: row.id,
    kind: row.kind,
    accountId: row.account_id,
    body: row.body,
    models: row.models,
    needs: row.needs,
    pixels: row.pixels,
    maxLength: row.max_length,
    maxContextLength: row.max_context_length,
    things: row.things,
    jobPrice: row.job_price,
    priority: row.priority,
    sortKey: row.sort_key,
    seq: row.seq,
    jobs: row.jobs,
    waiting: row.waiting,
    processing: row.processing,
    finished: row.finished,
    faults: row.faults,
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumed: row.consumed,
    reserved: row.reserved,
    meta: row.meta,
  };
}

export function jobFromRow(row: Row): JobRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    kind: row.kind,
    workerId: row.worker_id,
    workerOwnerId: row.worker_owner_id,
    model: row.model,
    seed: row.seed,
    batchIndex: row.batch_index,
    state: row.state,
    createdAt: row.created_at,
    leaseExpiresAt: row.lease_expires_at,
    things: row.things,
    result: row.result,
    completedAt: row.completed_at,
    reward: row.reward,
    cost: row.cost,
  };
}

export function workerFromRow(row: Row): WorkerRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    ownerId: row.owner_id,
    createdAt: row.created_at,
    lastCheckIn: row.last_check_in,
    onlineSince: row.online_since,
    uptimeCreditedAt: row.uptime_credited_at,
    profile: row.profile,
    maintenance: row.maintenance,
    maintenanceMessage: row.maintenance_message,
    paused: row.paused,
    info: row.info,
    speedSamples: row.speed_samples,
    stats: {
      requestsFulfilled: row.requests_fulfilled,
      kudosGenerated: row.kudos_generated,
      kudosUptime: row.kudos_uptime,
      thingsGenerated: row.things_generated,
      uncompletedJobs: row.uncompleted_jobs,
    },
    recentAborts: row.recent_aborts.map(Number),
  };
}

export function journalFromRow(row: Row): JournalEntry {
  return {
    id: row.id,
    at: row.at,
    accountId: row.account_id,
    kind: row.kind,
    balanceDelta: row.balance_delta,
    escrowDelta: row.escrow_delta,
    bucket: row.bucket,
    ref: row.ref,
  };
}

export function transferFromRow(row: Row): TransferRecord {
  return {
    id: row.id,
    fromId: row.from_id,
    toId: row.to_id,
    amount: row.amount,
    idempotencyKey: row.idempotency_key,
    at: row.at,
  };
}
