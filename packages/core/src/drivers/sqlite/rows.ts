/** Row ↔ record mapping for the SQLite driver. JSON columns hold nested objects. */
import type {
  AccountRecord,
  JobRecord,
  JournalEntry,
  RequestRecord,
  Roles,
  TransferRecord,
  WorkerRecord,
} from '../../storage/types.js';
import { ROLES } from '../../storage/types.js';

export interface AccountRow {
  id: number;
  username: string;
  kind: string;
  api_key_hash: string | null;
  roles: string;
  created_at: number;
  concurrency: number;
  balance: number;
  escrow: number;
  reserved: number;
  details: string;
  usage: string;
  contribution: string;
  contact: string | null;
  public_workers: number;
}

export function emptyRoles(): Roles {
  return Object.fromEntries(ROLES.map((role) => [role, false])) as Roles;
}

export function accountFromRow(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    username: row.username,
    kind: row.kind as AccountRecord['kind'],
    roles: { ...emptyRoles(), ...JSON.parse(row.roles) },
    createdAt: row.created_at,
    concurrency: row.concurrency,
    balance: row.balance,
    escrow: row.escrow,
    reserved: row.reserved,
    details: JSON.parse(row.details),
    usage: JSON.parse(row.usage),
    contribution: JSON.parse(row.contribution),
    activeJobs: 0,
    contact: row.contact,
    publicWorkers: row.public_workers === 1,
  };
}

export function accountToRow(a: AccountRecord, apiKeyHash: string | null): AccountRow {
  return {
    id: a.id,
    username: a.username,
    kind: a.kind,
    api_key_hash: apiKeyHash,
    roles: JSON.stringify(a.roles),
    created_at: a.createdAt,
    concurrency: a.concurrency,
    balance: a.balance,
    escrow: a.escrow,
    reserved: a.reserved,
    details: JSON.stringify(a.details),
    usage: JSON.stringify(a.usage),
    contribution: JSON.stringify(a.contribution),
    contact: a.contact,
    public_workers: a.publicWorkers ? 1 : 0,
  };
}

export interface RequestRow {
  id: string;
  kind: string;
  account_id: number;
  body: string;
  models: string;
  needs: number;
  pixels: number;
  max_length: number;
  max_context_length: number;
  things: number;
  job_price: number;
  priority: number;
  sort_key: number;
  seq: number;
  jobs: number;
  waiting: number;
  processing: number;
  finished: number;
  faults: number;
  state: string;
  created_at: number;
  expires_at: number;
  consumed: number;
  reserved: number;
  meta: string;
}

export function requestFromRow(row: RequestRow): RequestRecord {
  return {
    id: row.id,
    kind: row.kind as RequestRecord['kind'],
    accountId: row.account_id,
    body: JSON.parse(row.body),
    models: JSON.parse(row.models),
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
    state: row.state as RequestRecord['state'],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumed: row.consumed,
    reserved: row.reserved,
    meta: JSON.parse(row.meta),
  };
}

export function requestToRow(r: RequestRecord): RequestRow {
  return {
    id: r.id,
    kind: r.kind,
    account_id: r.accountId,
    body: JSON.stringify(r.body),
    models: JSON.stringify(r.models),
    needs: r.needs,
    pixels: r.pixels,
    max_length: r.maxLength,
    max_context_length: r.maxContextLength,
    things: r.things,
    job_price: r.jobPrice,
    priority: r.priority,
    sort_key: r.sortKey,
    seq: r.seq,
    jobs: r.jobs,
    waiting: r.waiting,
    processing: r.processing,
    finished: r.finished,
    faults: r.faults,
    state: r.state,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    consumed: r.consumed,
    reserved: r.reserved,
    meta: JSON.stringify(r.meta),
  };
}

export interface JobRow {
  id: string;
  request_id: string;
  kind: string;
  worker_id: string;
  worker_owner_id: number;
  model: string;
  seed: string;
  batch_index: number;
  state: string;
  created_at: number;
  lease_expires_at: number;
  things: number;
  result: string | null;
  completed_at: number | null;
  reward: number;
  cost: number;
}

export function jobFromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    kind: row.kind as JobRecord['kind'],
    workerId: row.worker_id,
    workerOwnerId: row.worker_owner_id,
    model: row.model,
    seed: row.seed,
    batchIndex: row.batch_index,
    state: row.state as JobRecord['state'],
    createdAt: row.created_at,
    leaseExpiresAt: row.lease_expires_at,
    things: row.things,
    result: row.result === null ? null : JSON.parse(row.result),
    completedAt: row.completed_at,
    reward: row.reward,
    cost: row.cost,
  };
}

export function jobToRow(j: JobRecord): JobRow {
  return {
    id: j.id,
    request_id: j.requestId,
    kind: j.kind,
    worker_id: j.workerId,
    worker_owner_id: j.workerOwnerId,
    model: j.model,
    seed: j.seed,
    batch_index: j.batchIndex,
    state: j.state,
    created_at: j.createdAt,
    lease_expires_at: j.leaseExpiresAt,
    things: j.things,
    result: j.result === null ? null : JSON.stringify(j.result),
    completed_at: j.completedAt,
    reward: j.reward,
    cost: j.cost,
  };
}

export interface WorkerRow {
  id: string;
  name: string;
  kind: string;
  owner_id: number;
  created_at: number;
  last_check_in: number;
  online_since: number;
  uptime_credited_at: number;
  profile: string;
  maintenance: number;
  maintenance_message: string | null;
  paused: number;
  info: string | null;
  speed_samples: string;
  stats: string;
  recent_aborts: string;
}

export function workerFromRow(row: WorkerRow): WorkerRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as WorkerRecord['kind'],
    ownerId: row.owner_id,
    createdAt: row.created_at,
    lastCheckIn: row.last_check_in,
    onlineSince: row.online_since,
    uptimeCreditedAt: row.uptime_credited_at,
    profile: JSON.parse(row.profile),
    maintenance: row.maintenance === 1,
    maintenanceMessage: row.maintenance_message,
    paused: row.paused === 1,
    info: row.info,
    speedSamples: JSON.parse(row.speed_samples),
    stats: JSON.parse(row.stats),
    recentAborts: JSON.parse(row.recent_aborts),
  };
}

export function workerToRow(w: WorkerRecord): WorkerRow {
  return {
    id: w.id,
    name: w.name,
    kind: w.kind,
    owner_id: w.ownerId,
    created_at: w.createdAt,
    last_check_in: w.lastCheckIn,
    online_since: w.onlineSince,
    uptime_credited_at: w.uptimeCreditedAt,
    profile: JSON.stringify(w.profile),
    maintenance: w.maintenance ? 1 : 0,
    maintenance_message: w.maintenanceMessage,
    paused: w.paused ? 1 : 0,
    info: w.info,
    speed_samples: JSON.stringify(w.speedSamples),
    stats: JSON.stringify(w.stats),
    recent_aborts: JSON.stringify(w.recentAborts),
  };
}

export interface JournalRow {
  id: number;
  at: number;
  account_id: number;
  kind: string;
  balance_delta: number;
  escrow_delta: number;
  bucket: string | null;
  ref: string | null;
}

export function journalFromRow(row: JournalRow): JournalEntry {
  return {
    id: row.id,
    at: row.at,
    accountId: row.account_id,
    kind: row.kind as JournalEntry['kind'],
    balanceDelta: row.balance_delta,
    escrowDelta: row.escrow_delta,
    bucket: row.bucket as JournalEntry['bucket'],
    ref: row.ref,
  };
}

export interface TransferRow {
  id: number;
  from_id: number;
  to_id: number;
  amount: number;
  idempotency_key: string | null;
  at: number;
}

export function transferFromRow(row: TransferRow): TransferRecord {
  return {
    id: row.id,
    fromId: row.from_id,
    toId: row.to_id,
    amount: row.amount,
    idempotencyKey: row.idempotency_key,
    at: row.at,
  };
}
