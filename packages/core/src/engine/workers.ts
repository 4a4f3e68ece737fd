/** Workers as people see them, and the changes their owners and moderators may make (spec §1.5, §2.9). */
import { HordeError } from '../errors.js';
import { type WorkerChangesInput, WorkerChangesSchema } from '../requests/schemas.js';
import { parseWith } from '../requests/validate.js';
import type { RequestKind, WorkerRecord } from '../storage/types.js';
import { authenticate, type Credentials, isModerator } from './accounts.js';
import type { EngineContext } from './context.js';
import { workerSpeed } from './load.js';

/** `WorkerDetails` of the AI Horde. */
export interface WorkerView {
  type: RequestKind;
  name: string;
  id: string;
  owner_id: number;
  online: boolean;
  requests_fulfilled: number;
  kudos_rewards: number;
  kudos_details: { generated: number; uptime: number };
  performance: string;
  /** Things per second (pixelsteps or tokens). */
  speed: number;
  threads: number;
  /** Seconds of the current continuous online stretch. */
  uptime: number;
  maintenance_mode: boolean;
  paused: boolean;
  info: string | null;
  nsfw: boolean;
  trusted: boolean;
  flagged: boolean;
  uncompleted_jobs: number;
  models: string[];
  bridge_agent: string;
  max_pixels?: number;
  megapixelsteps_generated?: number;
  img2img?: boolean;
  painting?: boolean;
  'post-processing'?: boolean;
  controlnet?: boolean;
  sdxl_controlnet?: boolean;
  lora?: boolean;
  max_length?: number;
  max_context_length?: number;
  tokens_generated?: number;
}

export async function workerView(ctx: EngineContext, worker: WorkerRecord): Promise<WorkerView> {
  const now = ctx.clock.now();
  const online = now - worker.lastCheckIn <= ctx.config.workers.onlineWindowMs;
  const owner = await ctx.store.getAccount(worker.ownerId);
  const speed = workerSpeed(worker, ctx.config.workers);
  const p = worker.profile;
  const base: WorkerView = {
    type: worker.kind,
    name: worker.name,
    id: worker.id,
    owner_id: worker.ownerId,
    online,
    requests_fulfilled: worker.stats.requestsFulfilled,
    kudos_rewards: (worker.stats.kudosGenerated + worker.stats.kudosUptime) / 100,
    kudos_details: { generated: worker.stats.kudosGenerated / 100, uptime: worker.stats.kudosUptime / 100 },
    performance:
      worker.kind === 'image'
        ? `${(speed / 1e6).toFixed(1)} megapixelsteps per second`
        : `${speed.toFixed(1)} tokens per second`,
    speed,
    threads: p.threads,
    uptime: online ? Math.round((now - worker.onlineSince) / 1000) : 0,
    maintenance_mode: worker.maintenance,
    paused: worker.paused,
    info: worker.info,
    nsfw: p.nsfw,
    trusted: owner?.roles.trusted ?? false,
    flagged: owner?.roles.flagged ?? false,
    uncompleted_jobs: worker.stats.uncompletedJobs,
    models: p.models,
    bridge_agent: p.bridge_agent,
  };
  if (p.kind === 'image') {
    return {
      ...base,
      max_pixels: p.max_pixels,
      megapixelsteps_generated: Math.round(worker.stats.thingsGenerated / 1e6),
      img2img: p.allow_img2img,
      painting: p.allow_painting,
      'post-processing': p.allow_post_processing,
      controlnet: p.allow_controlnet,
      sdxl_controlnet: p.allow_sdxl_controlnet,
      lora: p.allow_lora,
    };
  }
  return {
    ...base,
    max_length: p.max_length,
    max_context_length: p.max_context_length,
    tokens_generated: worker.stats.thingsGenerated,
  };
}

export async function requireWorker(ctx: EngineContext, id: string): Promise<WorkerRecord> {
  const worker = typeof id === 'string' && id.length <= 64 ? await ctx.store.getWorker(id) : undefined;
  if (!worker) throw new HordeError('WorkerNotFound', 'No worker has this id.');
  return worker;
}

/** Online workers (checked in within the online window), optionally of one kind. */
export async function listOnlineWorkers(ctx: EngineContext, kind?: RequestKind): Promise<WorkerView[]> {
  const records = await ctx.store.listWorkers({
    ...(kind ? { kind } : {}),
    onlineSince: ctx.clock.now() - ctx.config.workers.onlineWindowMs,
  });
  return Promise.all(records.map((w) => workerView(ctx, w)));
}

export type WorkerChanges = WorkerChangesInput;

/** `PUT /workers/{id}`: returns the changed fields. */
export async function modifyWorker(
  ctx: EngineContext,
  credentials: Credentials,
  workerId: string,
  input: unknown,
): Promise<Record<string, unknown>> {
  const changes = parseWith(WorkerChangesSchema, input);
  const actor = await authenticate(ctx, credentials);
  const worker = await requireWorker(ctx, workerId);
  const moderator = isModerator(ctx, actor);
  const owner = worker.ownerId === actor.id;
  if (changes.paused !== undefined && !moderator)
    throw new HordeError('NotModerator', 'Only a moderator may pause a worker.');
  const ownerFields =
    changes.maintenance !== undefined || changes.info !== undefined || changes.name !== undefined;
  if (ownerFields && !owner && !moderator)
    throw new HordeError('NotOwner', 'Only the owner of this worker or a moderator may change it.');
  const out: Record<string, unknown> = {};
  const patch: Parameters<typeof ctx.store.updateWorker>[1] = {};
  if (changes.maintenance !== undefined) {
    patch.maintenance = out.maintenance = changes.maintenance;
    patch.maintenanceMessage = changes.maintenance ? (changes.maintenance_msg ?? null) : null;
  }
  if (changes.info !== undefined) patch.info = out.info = changes.info;
  if (changes.name !== undefined) {
    if (changes.name.trim().length < 5)
      throw new HordeError('BadRequest', 'A worker name needs at least 5 characters.');
    patch.name = out.name = changes.name.trim();
  }
  if (changes.paused !== undefined) patch.paused = out.paused = changes.paused;
  if (Object.keys(out).length === 0)
    throw new HordeError('NoWorkerModSelected', 'Nothing to change: name at least one field.');
  await ctx.store.updateWorker(worker.id, patch);
  ctx.load.invalidate();
  if (patch.maintenance !== undefined) {
    ctx.events.publish({
      scope: 'worker',
      type: 'maintenance',
      workerId: worker.id,
      workerName: worker.name,
      enabled: patch.maintenance,
      message: patch.maintenanceMessage ?? null,
      at: ctx.clock.now(),
    });
  }
  return out;
}

export async function removeWorker(
  ctx: EngineContext,
  credentials: Credentials,
  workerId: string,
): Promise<{ deleted_id: string; deleted_name: string }> {
  const actor = await authenticate(ctx, credentials);
  const worker = await requireWorker(ctx, workerId);
  if (worker.ownerId !== actor.id && !isModerator(ctx, actor)) {
    throw new HordeError('NotModerator', 'Only the owner of this worker or a moderator may delete it.');
  }
  await ctx.store.deleteWorker(worker.id);
  ctx.load.invalidate();
  return { deleted_id: worker.id, deleted_name: worker.name };
}
