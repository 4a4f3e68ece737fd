/**
 * Builders shared by the conformance cases: accounts, requests built the way `engine/generate.ts` builds
 * them, worker check-ins, claims, settlements, worker queries. Everything goes through the `HordeStore`
 * interface: the suite must run unchanged against every driver.
 */
import { newId } from '../../ids.js';
import type { Centikudos } from '../../ledger/money.js';
import {
  type ImageGenerateInput,
  ImageGenerateSchema,
  type ImagePopInput,
  ImagePopSchema,
  type TextGenerateInput,
  TextGenerateSchema,
  type TextPopInput,
  TextPopSchema,
} from '../../requests/schemas.js';
import { imageNeeds, textNeeds } from '../../scheduler/needs.js';
import { ALL_NEEDS } from '../../scheduler/requirements.js';
import type {
  AccountRecord,
  CandidateQuery,
  CompleteResult,
  EnqueueOp,
  FailOp,
  FailResult,
  GenerationResult,
  HordeStore,
  JobRecord,
  NewAccount,
  NewRequest,
  RequestKind,
  RequestRecord,
  WorkerProfile,
  WorkerRecord,
} from '../../storage/types.js';

export const T0 = Date.UTC(2026, 0, 1);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

// The random tail of an id: time-ordered ids share their leading characters.
const shortId = () => newId().slice(-12);

// ---------------------------------------------------------------------------------------------------------
// accounts

export interface AccountOptions extends Partial<NewAccount> {
  /** Credited with an `admin` adjustment right after creation. */
  balance?: Centikudos;
}

export async function createAccount(store: HordeStore, options: AccountOptions = {}): Promise<AccountRecord> {
  const { balance = 0, ...input } = options;
  const account = await store.createAccount({
    username: `user-${shortId()}`,
    kind: 'pseudonymous',
    apiKeyHash: null,
    concurrency: 100,
    createdAt: T0,
    ...input,
  });
  return balance === 0 ? account : fund(store, account.id, balance);
}

export function fund(store: HordeStore, accountId: number, amount: Centikudos, at = T0) {
  return store.adjustBalance({ accountId, kind: 'admin', amount, bucket: 'admin', at });
}

export async function getAccount(store: HordeStore, id: number): Promise<AccountRecord> {
  const account = await store.getAccount(id);
  if (!account) throw new Error(`account ${id} is missing`);
  return account;
}

// ---------------------------------------------------------------------------------------------------------
// requests

export interface RequestOptions {
  id?: string;
  createdAt?: number;
  expiresAt?: number;
  jobs?: number;
  models?: string[];
  /** Overrides the bits derived from the body. */
  needs?: number;
  meta?: Record<string, string>;
}

export interface ImageRequestOptions extends RequestOptions {
  width?: number;
  height?: number;
  steps?: number;
  body?: Omit<ImageGenerateInput, 'params'>;
}

/** A `NewRequest` built the way `engine/generate.ts` builds one. */
export function imageRequest(accountId: number, options: ImageRequestOptions = {}): NewRequest {
  const { width = 512, height = 512, steps = 30 } = options;
  const body = ImageGenerateSchema.parse({
    prompt: 'a lighthouse at dusk',
    models: options.models ?? ['stable_diffusion'],
    ...options.body,
    params: { n: options.jobs ?? 1, width, height, steps },
  });
  const createdAt = options.createdAt ?? T0;
  return {
    id: options.id ?? newId(),
    kind: 'image',
    accountId,
    body,
    models: [...new Set(body.models)],
    jobs: body.params.n,
    needs: options.needs ?? imageNeeds(body),
    pixels: width * height,
    maxLength: 0,
    maxContextLength: 0,
    things: width * height * steps,
    jobPrice: 300,
    createdAt,
    expiresAt: options.expiresAt ?? createdAt + 20 * MINUTE,
    meta: options.meta ?? {},
  };
}

export interface TextRequestOptions extends RequestOptions {
  maxLength?: number;
  maxContextLength?: number;
  body?: Omit<TextGenerateInput, 'params'>;
}

export function textRequest(accountId: number, options: TextRequestOptions = {}): NewRequest {
  const { maxLength = 80, maxContextLength = 2048 } = options;
  const body = TextGenerateSchema.parse({
    prompt: 'Once upon a time',
    models: options.models ?? [],
    ...options.body,
    params: { n: options.jobs ?? 1, max_length: maxLength, max_context_length: maxContextLength },
  });
  const createdAt = options.createdAt ?? T0;
  return {
    id: options.id ?? newId(),
    kind: 'text',
    accountId,
    body,
    models: [...new Set(body.models)],
    jobs: body.params.n,
    needs: options.needs ?? textNeeds(body),
    pixels: 0,
    maxLength,
    maxContextLength,
    things: maxLength,
    jobPrice: 0,
    createdAt,
    expiresAt: options.expiresAt ?? createdAt + 20 * MINUTE,
    meta: options.meta ?? {},
  };
}

export const NO_AGING = { amount: 0, intervalMs: MINUTE };

export type EnqueueOptions = Partial<Omit<EnqueueOp, 'request'>>;

export function enqueue(store: HordeStore, request: NewRequest, options: EnqueueOptions = {}) {
  return store.enqueueRequest({
    tax: 0,
    reserve: 0,
    floor: 0,
    concurrencyLimit: 100,
    aging: NO_AGING,
    ...options,
    request,
  });
}

export async function getRequest(store: HordeStore, id: string): Promise<RequestRecord> {
  const request = await store.getRequest(id);
  if (!request) throw new Error(`request ${id} is missing`);
  return request;
}

// ---------------------------------------------------------------------------------------------------------
// workers and jobs

export function imageProfile(input: Partial<ImagePopInput> = {}): WorkerProfile {
  const { name: _name, ...pop } = ImagePopSchema.parse({ name: 'w', models: ['stable_diffusion'], ...input });
  return { kind: 'image', ...pop };
}

export function textProfile(input: Partial<TextPopInput> = {}): WorkerProfile {
  const { name: _name, ...pop } = TextPopSchema.parse({ name: 'w', ...input });
  return { kind: 'text', ...pop };
}

export interface CheckInOptions {
  ownerId: number;
  name?: string;
  kind?: RequestKind;
  profile?: WorkerProfile;
  maxWorkers?: number;
  onlineWindowMs?: number;
  now?: number;
  newId?: string;
}

export function checkIn(store: HordeStore, options: CheckInOptions): Promise<WorkerRecord> {
  const kind = options.kind ?? options.profile?.kind ?? 'image';
  return store.checkInWorker({
    name: options.name ?? `worker-${shortId()}`,
    kind,
    ownerId: options.ownerId,
    profile: options.profile ?? (kind === 'image' ? imageProfile() : textProfile()),
    maxWorkers: options.maxWorkers ?? 10,
    onlineWindowMs: options.onlineWindowMs ?? 5 * MINUTE,
    now: options.now ?? T0,
    newId: options.newId ?? newId(),
  });
}

export interface ClaimOptions {
  count?: number;
  now?: number;
  leaseMs?: number;
  extendExpiryMs?: number;
  model?: string;
  ids?: string[];
}

export function claim(
  store: HordeStore,
  requestId: string,
  worker: Pick<WorkerRecord, 'id' | 'ownerId'>,
  options: ClaimOptions = {},
): Promise<JobRecord[]> {
  const ids = options.ids ?? Array.from({ length: options.count ?? 1 }, () => newId());
  return store.claimJobs({
    requestId,
    workerId: worker.id,
    workerOwnerId: worker.ownerId,
    count: options.count ?? ids.length,
    model: options.model ?? 'stable_diffusion',
    seeds: ids.map((_, i) => String(1000 + i)),
    ids,
    leaseMs: options.leaseMs ?? 5 * MINUTE,
    extendExpiryMs: options.extendExpiryMs ?? 0,
    now: options.now ?? T0,
  });
}

export const RESULT: GenerationResult = {
  generation: 'https://blobs.example/r2/one.webp',
  seed: 42,
  state: 'ok',
  censored: false,
  genMetadata: [{ type: 'censorship', value: 'csam' }],
};

export interface CompleteOptions {
  workerId?: string;
  /** @default RESULT */
  result?: GenerationResult;
  cost?: Centikudos;
  requesterFloor?: Centikudos;
  reward?: Centikudos;
  escrow?: Centikudos;
  speedSample?: number | null;
  speedSamples?: number;
  retainUntil?: number;
  now?: number;
}

export function complete(
  store: HordeStore,
  job: Pick<JobRecord, 'id' | 'workerId'>,
  options: CompleteOptions = {},
): Promise<CompleteResult> {
  const now = options.now ?? T0 + MINUTE;
  return store.completeJob({
    jobId: job.id,
    workerId: options.workerId ?? job.workerId,
    result: options.result ?? RESULT,
    cost: options.cost ?? 0,
    requesterFloor: options.requesterFloor ?? 0,
    reward: options.reward ?? 0,
    escrow: options.escrow ?? 0,
    speedSample: options.speedSample ?? null,
    speedSamples: options.speedSamples ?? 10,
    retainUntil: options.retainUntil ?? now + 10 * MINUTE,
    now,
  });
}

export function fail(
  store: HordeStore,
  jobId: string,
  options: Partial<Omit<FailOp, 'jobId'>> = {},
): Promise<FailResult | undefined> {
  return store.failJob({
    reason: 'faulted',
    faultAfter: 3,
    abortWindowMs: HOUR,
    now: T0 + MINUTE,
    ...options,
    jobId,
  });
}

/** A worker query that every default image request passes. */
export function imageQuery(query: Partial<CandidateQuery> = {}): CandidateQuery {
  return {
    kind: 'image',
    models: ['stable_diffusion'],
    acceptsAnyModel: true,
    offers: ALL_NEEDS,
    maxPixels: 3072 * 3072 * 4,
    maxLength: 0,
    maxContextLength: 0,
    limit: 100,
    countSkips: false,
    ...query,
  };
}

export function textQuery(query: Partial<CandidateQuery> = {}): CandidateQuery {
  return {
    kind: 'text',
    models: [],
    acceptsAnyModel: true,
    offers: ALL_NEEDS,
    maxPixels: 0,
    maxLength: 4096,
    maxContextLength: 1_048_576,
    limit: 100,
    countSkips: false,
    ...query,
  };
}

export async function candidateIds(store: HordeStore, query: CandidateQuery): Promise<string[]> {
  return (await store.findCandidates(query)).candidates.map((r) => r.id);
}
