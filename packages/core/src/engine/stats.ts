/** What is served now: per-model capacity and queue (`/status/models`), and the horde's totals (`/status/performance`). */
import type { RequestKind } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { workerSpeed } from './load.js';

/** One row of `/status/models`. */
export interface ModelStatus {
  name: string;
  /** Threads of online workers serving it. */
  count: number;
  /** Mean speed of those workers (things per second). */
  performance: number;
  /** Waiting work (pixelsteps or tokens). */
  queued: number;
  jobs: number;
  /** Seconds to clear its queue; 10000 when nobody serves it. */
  eta: number;
  type: RequestKind;
}

export const NO_WORKER_ETA = 10_000;

export async function modelStatuses(ctx: EngineContext, kind: RequestKind): Promise<ModelStatus[]> {
  const load = await ctx.load.snapshot(kind);
  const queue = await ctx.store.queueSummary(kind);
  const rows = new Map<string, ModelStatus>();
  const row = (name: string) => {
    let r = rows.get(name);
    if (!r) {
      r = { name, count: 0, performance: 0, queued: 0, jobs: 0, eta: NO_WORKER_ETA, type: kind };
      rows.set(name, r);
    }
    return r;
  };
  const speeds = new Map<string, number[]>();
  for (const worker of load.online) {
    if (worker.maintenance || worker.paused) continue;
    for (const model of worker.profile.models) {
      row(model).count += worker.profile.threads;
      const list = speeds.get(model) ?? [];
      list.push(workerSpeed(worker, ctx.config.workers));
      speeds.set(model, list);
    }
  }
  for (const entry of queue.models) {
    if (entry.model === '') continue;
    const r = row(entry.model);
    r.queued = entry.things;
    r.jobs = entry.jobs;
  }
  for (const r of rows.values()) {
    const list = speeds.get(r.name);
    if (list?.length) r.performance = list.reduce((a, b) => a + b, 0) / list.length;
    if (r.count > 0 && r.performance > 0) r.eta = Math.round(r.queued / (r.count * r.performance));
  }
  return [...rows.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

export interface HordePerformance {
  queued_requests: number;
  queued_text_requests: number;
  worker_count: number;
  text_worker_count: number;
  thread_count: number;
  text_thread_count: number;
  queued_megapixelsteps: number;
  queued_tokens: number;
}

export async function hordePerformance(ctx: EngineContext): Promise<HordePerformance> {
  const [image, text, imageQueue, textQueue] = await Promise.all([
    ctx.load.snapshot('image'),
    ctx.load.snapshot('text'),
    ctx.store.queueSummary('image'),
    ctx.store.queueSummary('text'),
  ]);
  return {
    queued_requests: imageQueue.requests,
    queued_text_requests: textQueue.requests,
    worker_count: image.online.length,
    text_worker_count: text.online.length,
    thread_count: image.activeThreads,
    text_thread_count: text.activeThreads,
    queued_megapixelsteps: Math.round(imageQueue.things / 1e6),
    queued_tokens: Math.round(textQueue.things),
  };
}
