/**
 * A worker asks for work (spec §1.1 pop, §3.2–§3.5): check it in, then walk the waiting requests it could
 * take in priority order — its owner's and priority users' first — run the per-candidate checks, and claim
 * a batch with a lease. When nothing matches, say why in `skipped`. The queue index only ever returns
 * requests that pass the indexable filters, so a pop that matches nothing costs O(partitions), not O(queue).
 */
import { HordeError } from '../errors.js';
import { newId, parseAlias } from '../ids.js';
import { isHeavyBaseline } from '../models/baselines.js';
import { baselineOf } from '../models/reference.js';
import type { ImageGenerateBody, TextGenerateBody } from '../requests/schemas.js';
import { type PopValidationContext, parseImagePop, parseTextPop } from '../requests/validate.js';
import { imageBatchSize, textBatchSize } from '../scheduler/batching.js';
import {
  batchSeed,
  type ImageJobPayload,
  imagePayload,
  type TextJobPayload,
  textPayload,
} from '../scheduler/payload.js';
import { imageJobTtlSeconds, textJobTtlSeconds } from '../scheduler/ttl.js';
import type {
  AccountRecord,
  RequestKind,
  RequestRecord,
  SkipCounts,
  SkipReason,
  WorkerProfile,
} from '../storage/types.js';
import {
  accountAlias,
  assertActive,
  authenticate,
  type Credentials,
  floorOf,
  isAnonymous,
} from './accounts.js';
import type { EngineContext } from './context.js';
import { creditUptimeIfDue } from './uptime.js';
import { type MatchingWorker, matchCandidate, matchingWorker } from './worker-profile.js';

export interface PopJob {
  /** The first job id (obsolete upstream field, kept for old workers). */
  id: string;
  ids: string[];
  model: string;
  /** Seconds the worker has before the jobs are handed to someone else. */
  ttl: number;
  payload: ImageJobPayload | TextJobPayload;
  requestId: string;
  /** Image: the source image, mask and extra sources as the requester sent them (base64 or URL). */
  source_image?: string;
  source_processing?: string;
  source_mask?: string;
  extra_source_images?: { image: string; strength: number }[];
}

export interface PopResult {
  worker: { id: string; name: string };
  /** Null when no request matched. */
  job: PopJob | null;
  /** Why waiting requests were not given to this worker, by reason (filled when nothing matched). */
  skipped: SkipCounts;
}

const PAGE_SIZE = 50;

async function checkInWorker(ctx: EngineContext, account: AccountRecord, kind: RequestKind, input: unknown) {
  if (isAnonymous(account)) {
    throw new HordeError(
      'AnonForbiddenWorker',
      'Anonymous users cannot run workers. Register an account and use its API key.',
    );
  }
  assertActive(account);
  if (account.roles.flagged) {
    throw new HordeError(
      'WorkerFlaggedMaintenance',
      'Your account is flagged, so its workers are in maintenance mode. Contact a moderator.',
    );
  }
  const popContext: PopValidationContext = {
    roles: { customizer: account.roles.customizer, special: account.roles.special },
    models: ctx.models,
    ownerAlias: accountAlias(account),
    acceptUnknownImageModels: ctx.config.workers.acceptUnknownImageModels,
  };
  const { name, profile } = parseWorkerPop(kind, input, popContext);
  const now = ctx.clock.now();
  const newWorkerId = newId();
  const worker = await ctx.store.checkInWorker({
    name,
    kind,
    ownerId: account.id,
    profile,
    maxWorkers: account.roles.trusted
      ? ctx.config.workers.maxWorkersTrusted
      : ctx.config.workers.maxWorkersUntrusted,
    onlineWindowMs: ctx.config.workers.onlineWindowMs,
    now,
    newId: newWorkerId,
  });
  if (worker.id === newWorkerId) {
    ctx.load.invalidate();
    ctx.events.publish({
      scope: 'worker',
      type: 'created',
      workerId: worker.id,
      workerName: worker.name,
      ownerId: account.id,
      at: now,
    });
    ctx.logger.debug({ worker: worker.id, name: worker.name, owner: account.id }, 'worker created');
  }
  await creditUptimeIfDue(ctx, worker, account);
  return { profile, worker };
}

function parseWorkerPop(
  kind: RequestKind,
  input: unknown,
  context: PopValidationContext,
): { name: string; profile: WorkerProfile } {
  if (kind === 'image') {
    const { name, ...rest } = parseImagePop(input, context);
    return { name, profile: { kind, ...rest } };
  }
  const { name, ...rest } = parseTextPop(input, context);
  return { name, profile: { kind, ...rest } };
}

async function priorityOwners(
  ctx: EngineContext,
  owner: AccountRecord,
  pop: WorkerProfile,
): Promise<number[]> {
  const ids = new Set<number>([owner.id]);
  for (const alias of pop.priority_usernames) {
    const id = parseAlias(alias);
    if (id !== undefined && (await ctx.store.getAccount(id))) ids.add(id);
  }
  return [...ids];
}

/** Requester-side gate of `require_upfront_kudos`: the requester must hold the job's kudos. */
async function passesKudosGate(
  ctx: EngineContext,
  worker: MatchingWorker,
  request: RequestRecord,
  preferred: Set<number>,
) {
  if (!worker.profile.require_upfront_kudos || preferred.has(request.accountId)) return true;
  const requester = await ctx.store.getAccount(request.accountId);
  if (!requester) return false;
  if (requester.roles.trusted) return true;
  return requester.balance - requester.reserved - floorOf(ctx, requester) >= request.jobPrice;
}

function pick<T>(items: T[], random: () => number): T {
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
}

async function claim(
  ctx: EngineContext,
  worker: MatchingWorker,
  request: RequestRecord,
  models: string[],
): Promise<PopJob | null> {
  const model = pick(models, ctx.random);
  const now = ctx.clock.now();
  const extraSlow = worker.profile.extra_slow_worker;
  let count: number;
  let ttl: number;
  let seed = '0';
  if (request.kind === 'image') {
    const body = request.body as ImageGenerateBody;
    const maxPixels = worker.profile.kind === 'image' ? worker.profile.max_pixels : 0;
    count = imageBatchSize(
      body,
      { amount: worker.profile.amount, maxPixels },
      request.waiting,
      ctx.config.jobs,
    );
    ttl = imageJobTtlSeconds(
      body,
      { heavyModel: isHeavyBaseline(baselineOf(ctx.models, model)), extraSlowWorker: extraSlow },
      ctx.config.jobs,
    );
    seed = batchSeed(body, request.waiting, ctx.random);
  } else {
    const body = request.body as TextGenerateBody;
    count = textBatchSize(worker.profile.amount, request.waiting, body.disable_batching);
    ttl = textJobTtlSeconds(ctx.config.jobs);
  }
  const ids = Array.from({ length: count }, () => newId());
  const jobs = await ctx.store.claimJobs({
    requestId: request.id,
    workerId: worker.record.id,
    workerOwnerId: worker.record.ownerId,
    count,
    model,
    seeds: ids.map(() => seed),
    ids,
    leaseMs: ttl * 1000,
    extendExpiryMs: extraSlow ? ctx.config.queue.extraSlowRequestExpiryMs : ctx.config.queue.requestExpiryMs,
    now,
  });
  if (jobs.length === 0) return null; // another worker took the last jobs first
  const jobIds = jobs.map((job) => job.id);
  ctx.events.publish({
    scope: 'request',
    type: 'processing',
    requestId: request.id,
    kind: request.kind,
    at: now,
    jobIds,
    workerId: worker.record.id,
    workerName: worker.record.name,
    model,
  });
  ctx.events.publish({
    scope: 'worker',
    type: 'assigned',
    workerId: worker.record.id,
    workerName: worker.record.name,
    requestId: request.id,
    jobIds,
    at: now,
  });
  ctx.logger.debug(
    { worker: worker.record.id, request: request.id, jobs: jobIds.length, model, ttl },
    'jobs claimed',
  );

  const base = { id: jobIds[0]!, ids: jobIds, model, ttl, requestId: request.id };
  if (request.kind === 'text') return { ...base, payload: textPayload(request.body as TextGenerateBody) };
  const body = request.body as ImageGenerateBody;
  return {
    ...base,
    payload: imagePayload(body, jobIds.length, seed),
    ...(body.source_image !== undefined
      ? { source_image: body.source_image, source_processing: body.source_processing }
      : {}),
    ...(body.source_mask !== undefined ? { source_mask: body.source_mask } : {}),
    ...(body.extra_source_images?.length ? { extra_source_images: body.extra_source_images } : {}),
  };
}

function addSkip(skipped: SkipCounts, reason: SkipReason, count = 1): void {
  skipped[reason] = (skipped[reason] ?? 0) + count;
}

export async function popJob(
  ctx: EngineContext,
  credentials: Credentials,
  kind: RequestKind,
  input: unknown,
): Promise<PopResult> {
  const account = await authenticate(ctx, credentials);
  const { profile, worker: record } = await checkInWorker(ctx, account, kind, input);
  const worker = matchingWorker(ctx, record, profile, account);
  const preferred = await priorityOwners(ctx, account, profile);
  const preferredSet = new Set(preferred);
  const restricted = record.maintenance || record.paused;
  const phases: (number[] | undefined)[] = restricted ? [[account.id]] : [preferred, undefined];
  const skipped: SkipCounts = {};
  const seen = new Set<string>();
  let scanned = 0;
  const limit = ctx.config.queue.popScanLimit;

  for (const ownerIds of phases) {
    let after: { sortKey: number; seq: number } | undefined;
    do {
      const page = await ctx.store.findCandidates({
        ...worker.query,
        ownerIds,
        after,
        limit: PAGE_SIZE,
        countSkips: false,
      });
      for (const request of page.candidates) {
        if (seen.has(request.id)) continue;
        seen.add(request.id);
        if (++scanned > limit) break;
        const match = matchCandidate(worker, request);
        if (!match.ok) {
          addSkip(skipped, match.reason);
          continue;
        }
        if (!(await passesKudosGate(ctx, worker, request, preferredSet))) {
          addSkip(skipped, 'kudos');
          continue;
        }
        const job = await claim(ctx, worker, request, match.models);
        if (job) return { worker: { id: record.id, name: record.name }, job, skipped: {} };
      }
      after = page.next ?? undefined;
    } while (after && scanned <= limit);
  }

  if (restricted) {
    const message = record.maintenanceMessage
      ? `This worker has been put into maintenance mode by its owner or a moderator: ${record.maintenanceMessage}`
      : 'This worker is in maintenance mode, so it only receives its owner\'s requests. Turn maintenance mode off (PUT /v2/workers/{id} {"maintenance": false}) to receive other requests.';
    throw new HordeError('WorkerMaintenance', message, { details: { worker: record.id } });
  }
  const index = await ctx.store.findCandidates({ ...worker.query, limit: 0, countSkips: true });
  for (const [reason, count] of Object.entries(index.skipped)) addSkip(skipped, reason as SkipReason, count);
  ctx.logger.debug({ worker: record.id, skipped }, 'pop matched nothing');
  return { worker: { id: record.id, name: record.name }, job: null, skipped };
}
