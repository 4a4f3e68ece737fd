/**
 * Status of a request (spec §3.6): the counters, `done`/`faulted`, queue position, the wait estimate,
 * `is_possible` and the kudos consumed — plus the generations delivered so far. Position comes from the
 * store's order-statistic index, so asking is cheap however long the queue is.
 */
import { HordeError } from '../errors.js';
import type { GenerationState, GenMetadata } from '../requests/schemas.js';
import type { JobRecord, RequestKind, RequestRecord } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { workerSpeed } from './load.js';
import { canAnyWorkerServe } from './possible.js';

/** `GET /generate/check/{id}`. */
export interface RequestCheck {
  finished: number;
  processing: number;
  restarted: number;
  waiting: number;
  done: boolean;
  faulted: boolean;
  /** Seconds, estimated. */
  wait_time: number;
  queue_position: number;
  kudos: number;
  is_possible: boolean;
}

export interface Generation {
  /** The job id. */
  id: string;
  kind: RequestKind;
  worker_id: string;
  worker_name: string;
  model: string;
  /** Image seeds are strings on the wire; text seeds numbers. */
  seed: string;
  state: GenerationState;
  censored: boolean;
  gen_metadata: GenMetadata[];
  /** What the worker submitted: base64 WebP, `"R2"` when uploaded, or the generated text. */
  generation: string;
  completed_at: number;
}

/** `GET /generate/status/{id}`. */
export interface RequestStatus extends RequestCheck {
  generations: Generation[];
}

export async function requireRequest(ctx: EngineContext, id: string): Promise<RequestRecord> {
  const request = typeof id === 'string' && id.length <= 64 ? await ctx.store.getRequest(id) : undefined;
  if (!request || request.state === 'expired') {
    throw new HordeError(
      'RequestNotFound',
      'No request with this id is known: it never existed, or it expired (results are kept 20 minutes after the last activity).',
    );
  }
  return request;
}

/** Seconds until the request's jobs are likely done: work ahead of it over the horde's capacity, plus its jobs in flight. */
export async function estimateWait(
  ctx: EngineContext,
  request: RequestRecord,
  jobs?: JobRecord[],
): Promise<number> {
  const load = await ctx.load.snapshot(request.kind);
  let seconds = 0;
  const position = await ctx.store.queuePosition(request.id);
  if (position && position.position > 0) {
    const threads = Math.max(1, Math.min(load.activeThreads, position.jobsAhead));
    seconds = position.thingsAhead / (Math.max(load.meanSpeed, 1e-9) * threads);
  }
  if (request.processing > 0) {
    const now = ctx.clock.now();
    let inFlight = 0;
    for (const job of jobs ?? (await ctx.store.listRequestJobs(request.id))) {
      if (job.state !== 'processing') continue;
      const worker = load.online.find((w) => w.id === job.workerId);
      const speed = worker ? workerSpeed(worker, ctx.config.workers) : load.meanSpeed;
      inFlight = Math.max(inFlight, job.things / Math.max(speed, 1e-9) - (now - job.createdAt) / 1000);
    }
    seconds += Math.max(0, inFlight);
  }
  return Math.round(seconds);
}

export async function checkRequest(ctx: EngineContext, id: string): Promise<RequestCheck> {
  const request = await requireRequest(ctx, id);
  return checkOf(ctx, request);
}

async function checkOf(
  ctx: EngineContext,
  request: RequestRecord,
  jobs?: JobRecord[],
): Promise<RequestCheck> {
  const faulted = request.state === 'faulted';
  const waiting = request.state === 'active' ? Math.max(0, request.waiting) : 0;
  const done = faulted || (waiting === 0 && request.processing === 0 && request.finished >= request.jobs);
  const position = await ctx.store.queuePosition(request.id);
  return {
    finished: request.finished,
    processing: request.processing,
    restarted: request.faults,
    waiting,
    done,
    faulted,
    wait_time: done ? 0 : await estimateWait(ctx, request, jobs),
    queue_position: position?.position ?? 0,
    kudos: Math.round(request.consumed / 100),
    is_possible: done || (await canAnyWorkerServe(ctx, request)),
  };
}

export async function requestStatus(ctx: EngineContext, id: string): Promise<RequestStatus> {
  const request = await requireRequest(ctx, id);
  const jobs = await ctx.store.listRequestJobs(request.id);
  const check = await checkOf(ctx, request, jobs);
  const workerNames = new Map<string, string>();
  const generations: Generation[] = [];
  for (const job of jobs) {
    if (job.state !== 'done' || !job.result) continue;
    let name = workerNames.get(job.workerId);
    if (name === undefined) {
      name = (await ctx.store.getWorker(job.workerId))?.name ?? 'unknown';
      workerNames.set(job.workerId, name);
    }
    generations.push({
      id: job.id,
      kind: job.kind,
      worker_id: job.workerId,
      worker_name: name,
      model: job.model,
      seed: job.kind === 'image' ? String(job.result.seed) : String(job.result.seed),
      state: job.result.state,
      censored: job.result.censored,
      gen_metadata: job.result.genMetadata,
      generation: job.result.generation,
      completed_at: job.completedAt ?? job.createdAt,
    });
  }
  return { ...check, generations };
}

/** Stops a request; jobs in flight still settle when their workers submit. Returns the status before. */
export async function cancelRequest(ctx: EngineContext, id: string): Promise<RequestStatus> {
  const before = await requestStatus(ctx, id);
  const request = await ctx.store.cancelRequest(id, ctx.clock.now());
  if (request && request.state === 'active') {
    ctx.events.publish({
      scope: 'request',
      type: 'cancelled',
      requestId: id,
      kind: request.kind,
      at: ctx.clock.now(),
    });
    ctx.logger.debug({ request: id }, 'request cancelled');
  }
  return before;
}
