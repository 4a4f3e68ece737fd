/**
 * The storage port. Every operation that moves kudos or changes a job's state is one atomic operation
 * inside the driver (SQLite transaction, PostgreSQL transaction with row locks): the engine decides the
 * amounts and limits, the driver applies them all-or-nothing and checks the conditions that must hold at
 * that instant (balance above the floor, job still leased to that worker, concurrency under the limit).
 * The engine never reads a balance, adds to it and writes it back.
 *
 * Amounts are integer centikudos (see `ledger/money.ts`). Times are epoch milliseconds from the engine's
 * clock, passed in so drivers never read the wall clock.
 *
 * Contract details every driver keeps (the conformance suite in `testing/` checks them):
 * - an operation resolves only once its writes are durable; records it returns are snapshots the caller
 *   cannot change the store through (copies, or frozen);
 * - unknown accounts are `UserNotFound`, unknown workers `WorkerNotFound`; a taken id, API key hash or
 *   identity is `BadRequest`;
 * - `listAccounts` sorts `kudos` richest first and `age` oldest first (ties by id);
 * - an idempotency key is scoped to its sender;
 * - the activation tax is stopped at the floor against the balance (not balance − reserved): it is small
 *   and always charged, while reservations only gate upfront requests.
 */
import type { Centikudos } from '../ledger/money.js';
import type {
  GenerationState,
  GenMetadata,
  ImageGenerateBody,
  ImagePopBody,
  TextGenerateBody,
  TextPopBody,
} from '../requests/schemas.js';

export type RequestKind = 'image' | 'text';

// ---------------------------------------------------------------------------------------------------------
// Accounts and the ledger

/** Decides the balance floor: anonymous −50, pseudonymous 14, verified 25 by default. */
export type AccountKind = 'anonymous' | 'pseudonymous' | 'verified';

export const ROLES = [
  'moderator',
  'trusted',
  'flagged',
  'customizer',
  'service',
  'education',
  'deleted',
  'vpn',
  'special',
] as const;
export type Role = (typeof ROLES)[number];
export type Roles = Record<Role, boolean>;

/** Signed running sums per kind of movement (spec §2.6), in centikudos. */
export interface KudosDetails {
  accumulated: Centikudos;
  gifted: Centikudos;
  donated: Centikudos;
  admin: Centikudos;
  received: Centikudos;
  recurring: Centikudos;
  awarded: Centikudos;
  styled: Centikudos;
}
export type KudosBucket = keyof KudosDetails;

export interface AccountUsage {
  /** Requested work: image megapixelsteps and text tokens. */
  megapixelsteps: number;
  tokens: number;
  imageRequests: number;
  textRequests: number;
}

export interface AccountContribution {
  /** Work done by the account's workers. */
  megapixelsteps: number;
  tokens: number;
  imagesFulfilled: number;
  textsFulfilled: number;
}

export interface AccountRecord {
  id: number;
  username: string;
  kind: AccountKind;
  roles: Roles;
  createdAt: number;
  /** Maximum waiting + in-flight jobs across the account's requests. */
  concurrency: number;
  /** Spendable kudos (centikudos). Never pushed below the floor by a debit. */
  balance: Centikudos;
  /** Rewards held until the account is trusted (spec §2.4 "evaluating kudos"). */
  escrow: Centikudos;
  /** Held for upfront-kudos requests still running. */
  reserved: Centikudos;
  details: KudosDetails;
  usage: AccountUsage;
  contribution: AccountContribution;
  /** Waiting + in-flight jobs right now (what `concurrency` limits). */
  activeJobs: number;
  contact: string | null;
  publicWorkers: boolean;
}

export interface NewAccount {
  username: string;
  kind: AccountKind;
  /** sha256 of the API key; `null` for accounts that cannot authenticate with a key. */
  apiKeyHash: string | null;
  roles?: Partial<Roles>;
  concurrency: number;
  createdAt: number;
  /** Only the anonymous account is created with a fixed id (0). */
  id?: number;
  /** An outside identity (a chat platform's user) bound to the new account in the same operation. */
  identity?: { provider: string; externalId: string };
}

export interface AccountPatch {
  username?: string;
  kind?: AccountKind;
  roles?: Partial<Roles>;
  concurrency?: number;
  contact?: string | null;
  publicWorkers?: boolean;
}

/** What a journal row records. Mints create kudos, burns destroy them, the rest move them. */
export type JournalKind =
  | 'activation' // burn: activation tax
  | 'generation' // burn: requester pays for a delivered job
  | 'reward' // mint: worker owner's generation reward (balance and/or escrow)
  | 'uptime' // mint: worker uptime reward
  | 'floor' // mint: a debit stopped at the floor, the difference is forgiven
  | 'transfer' // move: sender → recipient (two rows)
  | 'admin' // mint or burn: an administrator's adjustment
  | 'award' // mint: /kudos/award
  | 'recurring' // mint: monthly grant
  | 'escrow'; // move: escrow → balance within one account when it becomes trusted

export interface JournalEntry {
  id: number;
  at: number;
  accountId: number;
  kind: JournalKind;
  /** Change to the spendable balance. */
  balanceDelta: Centikudos;
  /** Change to the escrow. */
  escrowDelta: Centikudos;
  /** The `kudos_details` bucket this movement counts in, if any. */
  bucket: KudosBucket | null;
  /** What caused it: a job id, a request id, a transfer id, a worker id. */
  ref: string | null;
}

export interface LedgerTotals {
  minted: Centikudos;
  burnt: Centikudos;
  balances: Centikudos;
  escrow: Centikudos;
}

export interface BalanceAdjustment {
  accountId: number;
  kind: Extract<JournalKind, 'admin' | 'award' | 'recurring' | 'escrow'>;
  /** Positive credits, negative debits (stopped at `floor` when given). For `escrow`, the amount released. */
  amount: Centikudos;
  bucket: KudosBucket | null;
  floor?: Centikudos;
  ref?: string | null;
  at: number;
}

export interface TransferOp {
  fromId: number;
  toId: number;
  amount: Centikudos;
  /** Sender's floor: the transfer needs `balance − floor − reserved ≥ amount`. */
  senderFloor: Centikudos;
  /** Bucket the sender's side counts in: `gifted`, or `donated` when the recipient is an education account. */
  senderBucket: Extract<KudosBucket, 'gifted' | 'donated'>;
  /** Refuse when the recipient sent kudos to the sender after this instant (anti ping-pong). */
  pingPongSince: number;
  idempotencyKey: string | null;
  at: number;
}

export interface TransferRecord {
  id: number;
  fromId: number;
  toId: number;
  amount: Centikudos;
  idempotencyKey: string | null;
  at: number;
}

export interface TransferResult {
  transfer: TransferRecord;
  /** True when an earlier transfer with the same idempotency key was returned instead of moving kudos. */
  replayed: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Requests and jobs

/** `active` covers waiting and in flight; the others are final (a cancelled request may still settle jobs in flight). */
export type RequestState = 'active' | 'done' | 'faulted' | 'cancelled' | 'expired';

export type RequestBody = ImageGenerateBody | TextGenerateBody;

/** What the queue indexes: the filters a worker must pass before per-candidate checks. */
export interface RequestRequirements {
  /** Requested models; empty means any model. */
  models: string[];
  /** Bit set of `Need` flags (see `scheduler/requirements.ts`) the worker must offer. */
  needs: number;
  /** Image: width × height. Text: 0. */
  pixels: number;
  /** Text: `max_length` and `max_context_length`. Image: 0. */
  maxLength: number;
  maxContextLength: number;
}

export interface RequestRecord extends RequestRequirements {
  id: string;
  kind: RequestKind;
  accountId: number;
  body: RequestBody;
  /** Work units of one job: pixelsteps (width × height × accurate steps) or tokens (`max_length`). */
  things: number;
  /** Kudos price of one job before the model's baseline multiplier (upstream `wp.kudos`). */
  jobPrice: Centikudos;
  /** Priority at activation: the requester's balance, unless overridden. */
  priority: number;
  /** `priority − agingAmount × aging ticks elapsed before activation`: ordering by it equals ordering by aged priority. */
  sortKey: number;
  /** Insertion order, the FIFO tie-break. */
  seq: number;
  jobs: number;
  waiting: number;
  processing: number;
  finished: number;
  faults: number;
  state: RequestState;
  createdAt: number;
  expiresAt: number;
  /** Kudos charged so far (activation tax and settled jobs). */
  consumed: Centikudos;
  /** Upfront kudos held from the requester's spendable balance until the request ends. */
  reserved: Centikudos;
  /** Free-form context the engine keeps with the request (client agent, proxied account, IP). */
  meta: Record<string, string>;
}

export type NewRequest = Omit<
  RequestRecord,
  | 'priority'
  | 'sortKey'
  | 'seq'
  | 'waiting'
  | 'processing'
  | 'finished'
  | 'faults'
  | 'state'
  | 'consumed'
  | 'reserved'
>;

export interface EnqueueOp {
  request: NewRequest;
  /** Activation tax, burnt now (stopped at the floor). */
  tax: Centikudos;
  /** Upfront kudos to hold; the enqueue fails with `KudosUpfront` when the spendable balance is short. */
  reserve: Centikudos;
  floor: Centikudos;
  /** Enqueue fails with `TooManyPrompts` when active jobs + this request's jobs would exceed it. */
  concurrencyLimit: number;
  /** Used instead of the requester's balance (flagged accounts, downgraded shared keys). */
  priorityOverride?: number;
  aging: { amount: number; intervalMs: number };
}

export interface GenerationResult {
  generation: string;
  seed: number;
  state: GenerationState;
  censored: boolean;
  genMetadata: GenMetadata[];
}

/** `processing` until the first submit; `faulted` when the worker reported a failure; `aborted` when its lease ran out. */
export type JobState = 'processing' | 'done' | 'faulted' | 'aborted';

export interface JobRecord {
  id: string;
  requestId: string;
  kind: RequestKind;
  workerId: string;
  workerOwnerId: number;
  model: string;
  /** The seed handed to the worker (a string on the wire). */
  seed: string;
  /** Position of the job in its pop's batch. */
  batchIndex: number;
  state: JobState;
  createdAt: number;
  leaseExpiresAt: number;
  things: number;
  result: GenerationResult | null;
  completedAt: number | null;
  /** Paid to the worker's owner (balance + escrow), before the bridge multiplier is applied. */
  reward: Centikudos;
  /** Charged to the requester. */
  cost: Centikudos;
}

export interface ClaimOp {
  requestId: string;
  workerId: string;
  workerOwnerId: number;
  /** Jobs wanted; the driver hands out `min(count, waiting)` or none if the request is no longer waiting. */
  count: number;
  model: string;
  /** One seed per job (same length as `count`). */
  seeds: string[];
  ids: string[];
  leaseMs: number;
  /** The request's expiry becomes at least `now + extendExpiryMs`. */
  extendExpiryMs: number;
  now: number;
}

export interface CompleteOp {
  jobId: string;
  workerId: string;
  result: GenerationResult;
  /** Charged to the requester (burnt), stopped at `requesterFloor`. */
  cost: Centikudos;
  requesterFloor: Centikudos;
  /** Minted to the worker's owner: `reward` to the balance and `escrow` held back. */
  reward: Centikudos;
  escrow: Centikudos;
  /** Speed sample (things per second) for the worker, if measurable. */
  speedSample: number | null;
  /** Keep this many speed samples. */
  speedSamples: number;
  /** Keep the request (and its results) at least this long after delivery. */
  retainUntil: number;
  now: number;
}

export type CompleteResult =
  | { outcome: 'settled'; job: JobRecord; request: RequestRecord }
  | { outcome: 'duplicate'; job: JobRecord }
  | { outcome: 'aborted'; job: JobRecord }
  | { outcome: 'wrong-worker'; job: JobRecord }
  | { outcome: 'unknown' };

export interface FailOp {
  jobId: string;
  /** `faulted`: the worker reported it; `aborted`: its lease ran out. */
  reason: 'faulted' | 'aborted';
  /** The request is faulted when its failures reach this number. */
  faultAfter: number;
  /** Window for the worker's recent-abort list (auto-maintenance). */
  abortWindowMs: number;
  now: number;
}

export interface FailResult {
  job: JobRecord;
  request: RequestRecord;
  /** True when this failure faulted the whole request; false when the job went back to the queue. */
  requestFaulted: boolean;
  /** The worker's aborted jobs within the window, after this failure. */
  workerRecentAborts: number;
}

export interface QueuePosition {
  /** 1-based position among waiting requests of the same kind; 0 when nothing of the request waits. */
  position: number;
  /** Σ things × waiting of the requests up to and including this one. */
  thingsAhead: number;
  /** Σ waiting jobs of the requests up to and including this one. */
  jobsAhead: number;
}

export interface ModelQueue {
  model: string;
  requests: number;
  jobs: number;
  things: number;
}

export interface QueueSummary {
  kind: RequestKind;
  /** Active requests with jobs still waiting. */
  requests: number;
  jobs: number;
  things: number;
  /** Per requested model (a request for several models counts under each). `""` is "any model". */
  models: ModelQueue[];
}

// ---------------------------------------------------------------------------------------------------------
// Candidate scans (pop)

/** Why a waiting request was not given to a worker (the keys of the pop response's `skipped`). */
export type SkipReason =
  | 'worker_id'
  | 'performance'
  | 'nsfw'
  | 'blacklist'
  | 'untrusted'
  | 'models'
  | 'bridge_version'
  | 'kudos'
  | 'max_pixels'
  | 'step_count'
  | 'unsafe_ip'
  | 'img2img'
  | 'painting'
  | 'post-processing'
  | 'lora'
  | 'controlnet'
  | 'max_context_length'
  | 'max_length'
  | 'matching_softprompt';

export type SkipCounts = Partial<Record<SkipReason, number>>;

export interface CandidateQuery {
  kind: RequestKind;
  /** Models the worker serves. */
  models: string[];
  /** Whether the worker may take requests that name no model. */
  acceptsAnyModel: boolean;
  /** Bit set of `Need` flags the worker offers. */
  offers: number;
  maxPixels: number;
  maxLength: number;
  maxContextLength: number;
  /** Restrict to requests of these accounts (the worker's owner and priority users; maintenance). */
  ownerIds?: number[];
  /** Continue after this candidate (exclusive). */
  after?: CandidateCursor;
  limit: number;
  /** Also count the waiting requests the indexable filters rejected, by reason. */
  countSkips: boolean;
}

export interface CandidateCursor {
  sortKey: number;
  seq: number;
}

export interface CandidatePage {
  candidates: RequestRecord[];
  /** Where the next page starts; null when the scan is exhausted. */
  next: CandidateCursor | null;
  skipped: SkipCounts;
}

// ---------------------------------------------------------------------------------------------------------
// Workers

/** What a worker declared in its last pop (the pop body without per-call fields). */
export type ImageWorkerProfile = { kind: 'image' } & Omit<ImagePopBody, 'name'>;
export type TextWorkerProfile = { kind: 'text' } & Omit<TextPopBody, 'name'>;
export type WorkerProfile = ImageWorkerProfile | TextWorkerProfile;

export interface WorkerStats {
  requestsFulfilled: number;
  /** Reward credited for generations (centikudos). */
  kudosGenerated: Centikudos;
  /** Reward credited for uptime (centikudos). */
  kudosUptime: Centikudos;
  /** Pixelsteps or tokens generated. */
  thingsGenerated: number;
  uncompletedJobs: number;
}

export interface WorkerRecord {
  id: string;
  name: string;
  kind: RequestKind;
  ownerId: number;
  createdAt: number;
  lastCheckIn: number;
  /** Start of the current continuous online stretch. */
  onlineSince: number;
  /** Uptime rewarded up to this instant. */
  uptimeCreditedAt: number;
  profile: WorkerProfile;
  maintenance: boolean;
  maintenanceMessage: string | null;
  paused: boolean;
  info: string | null;
  /** Last speed samples, oldest first (things per second). */
  speedSamples: number[];
  stats: WorkerStats;
  /** Times of recently aborted jobs (within the auto-maintenance window). */
  recentAborts: number[];
}

export interface CheckInOp {
  name: string;
  kind: RequestKind;
  ownerId: number;
  profile: WorkerProfile;
  /** Creating a worker fails with `TooManyWorkers` when the owner already has this many. */
  maxWorkers: number;
  /** A gap longer than this restarts the continuous-uptime clock. */
  onlineWindowMs: number;
  now: number;
  /** Id for a worker created by this check-in. */
  newId: string;
}

export interface WorkerPatch {
  name?: string;
  maintenance?: boolean;
  maintenanceMessage?: string | null;
  paused?: boolean;
  info?: string | null;
}

export interface UptimeOp {
  workerId: string;
  /** Credit when `now − uptimeCreditedAt ≥ periodMs` and the worker was online all along. */
  periodMs: number;
  /** Reward for one period: to the owner's balance, and to escrow. */
  reward: Centikudos;
  escrow: Centikudos;
  now: number;
}

export interface WorkerQuery {
  kind?: RequestKind;
  ownerId?: number;
  /** Only workers that checked in at or after this instant. */
  onlineSince?: number;
  name?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Generation statistics

/** Rolling windows ending now (`month` is 30 days), and `total`: everything ever. */
export const STATS_WINDOWS = ['minute', 'hour', 'day', 'month', 'total'] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];

export interface GenerationCount {
  /** Completed jobs. */
  jobs: number;
  /** Their things: pixelsteps (image) or tokens (text). */
  things: number;
}

/** One model's completed jobs in each window. */
export type ModelGenerationCounts = { model: string } & Record<StatsWindow, GenerationCount>;

export interface GenerationStats {
  kind: RequestKind;
  /** One row per model (the job's model) that ever completed a job, sorted by name. */
  models: ModelGenerationCounts[];
}

// ---------------------------------------------------------------------------------------------------------
// The port

export interface HordeStore {
  /** Driver name for logs and errors (`sqlite`, `postgres`). */
  readonly driver: string;

  // accounts
  createAccount(input: NewAccount): Promise<AccountRecord>;
  getAccount(id: number): Promise<AccountRecord | undefined>;
  getAccountByKeyHash(apiKeyHash: string): Promise<AccountRecord | undefined>;
  getAccountByUsername(username: string): Promise<AccountRecord[]>;
  listAccounts(options: { offset: number; limit: number; sort: 'kudos' | 'age' }): Promise<AccountRecord[]>;
  updateAccount(id: number, patch: AccountPatch): Promise<AccountRecord>;
  setApiKeyHash(id: number, apiKeyHash: string | null): Promise<void>;
  /**
   * Binds an external identity (a chat platform's user id) to an account. An identity is bound to one
   * account at a time: linking it again re-points it, and the account it left keeps everything else.
   */
  linkIdentity(accountId: number, provider: string, externalId: string): Promise<void>;
  getAccountByIdentity(provider: string, externalId: string): Promise<AccountRecord | undefined>;

  // ledger
  adjustBalance(op: BalanceAdjustment): Promise<AccountRecord>;
  transfer(op: TransferOp): Promise<TransferResult>;
  /** The journal in id order; every balance and escrow can be re-derived from it. */
  readJournal(options?: { afterId?: number; limit?: number; accountId?: number }): Promise<JournalEntry[]>;
  ledgerTotals(): Promise<LedgerTotals>;

  // requests and jobs
  enqueueRequest(op: EnqueueOp): Promise<RequestRecord>;
  getRequest(id: string): Promise<RequestRecord | undefined>;
  listRequestJobs(requestId: string): Promise<JobRecord[]>;
  /** Active requests of an account, newest first. */
  listAccountRequests(accountId: number): Promise<RequestRecord[]>;
  findCandidates(query: CandidateQuery): Promise<CandidatePage>;
  claimJobs(op: ClaimOp): Promise<JobRecord[]>;
  getJob(id: string): Promise<JobRecord | undefined>;
  completeJob(op: CompleteOp): Promise<CompleteResult>;
  failJob(op: FailOp): Promise<FailResult | undefined>;
  /** Jobs still processing whose lease ended at or before `now`. */
  listExpiredLeases(now: number, limit: number): Promise<JobRecord[]>;
  /** Stops handing out jobs; jobs in flight still settle when submitted. Returns the request before the change. */
  cancelRequest(id: string, now: number): Promise<RequestRecord | undefined>;
  /** Requests whose expiry passed and that have no job in flight become `expired`; returns them. */
  expireRequests(now: number, limit: number): Promise<RequestRecord[]>;
  queuePosition(requestId: string): Promise<QueuePosition | undefined>;
  queueSummary(kind: RequestKind): Promise<QueueSummary>;
  /**
   * Jobs completed by `completeJob` (censored ones included; faulted and aborted ones never), counted in
   * the same operation, per model and window ending at `now`. Windows may be rounded to buckets: a job
   * completed at `t` counts when `t > now − window`, and may go on counting until `now − window − bucket`,
   * with buckets of at most a minute for `minute` and `hour` and at most an hour for `day` and `month`.
   * A read must not scan the jobs: drivers keep counters.
   */
  generationStats(kind: RequestKind, now: number): Promise<GenerationStats>;

  // workers
  checkInWorker(op: CheckInOp): Promise<WorkerRecord>;
  getWorker(id: string): Promise<WorkerRecord | undefined>;
  getWorkerByName(name: string): Promise<WorkerRecord | undefined>;
  listWorkers(query?: WorkerQuery): Promise<WorkerRecord[]>;
  updateWorker(id: string, patch: WorkerPatch): Promise<WorkerRecord>;
  deleteWorker(id: string): Promise<boolean>;
  /** Returns the kudos credited (0 when the period is not complete). */
  creditUptime(op: UptimeOp): Promise<Centikudos>;

  close(): Promise<void>;
}
