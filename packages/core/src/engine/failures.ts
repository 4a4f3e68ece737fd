/**
 * A job that did not come back: reported faulted by its worker, or its lease ran out. It returns to the
 * queue, or faults the request on its third failure; a worker that drops too many jobs goes into
 * maintenance (spec §3.5).
 */
import type { JobRecord } from '../storage/types.js';
import type { EngineContext } from './context.js';

export const AUTO_MAINTENANCE_MESSAGE =
  "Maintenance mode activated because worker is dropping too many jobs. Check your worker's speed and logs, then turn maintenance off.";

export async function failJobAndPublish(
  ctx: EngineContext,
  job: JobRecord,
  reason: 'faulted' | 'aborted',
): Promise<void> {
  const now = ctx.clock.now();
  const result = await ctx.store.failJob({
    jobId: job.id,
    reason,
    faultAfter: ctx.config.queue.faultAfterFailures,
    abortWindowMs: ctx.config.workers.autoMaintenanceWindowMs,
    now,
  });
  if (!result) return;
  const { request } = result;
  const worker = await ctx.store.getWorker(job.workerId);
  const workerName = worker?.name ?? 'unknown';
  ctx.events.publish({
    scope: 'worker',
    type: 'failed',
    workerId: job.workerId,
    workerName,
    requestId: request.id,
    jobId: job.id,
    reason,
    at: now,
  });
  ctx.events.publish({
    scope: 'request',
    type: 'restarted',
    requestId: request.id,
    kind: request.kind,
    at: now,
    jobId: job.id,
    reason,
  });
  if (result.requestFaulted) {
    ctx.events.publish({
      scope: 'request',
      type: 'faulted',
      requestId: request.id,
      kind: request.kind,
      at: now,
    });
  }
  ctx.logger.debug(
    { job: job.id, request: request.id, reason, requestFaulted: result.requestFaulted },
    'job failed',
  );

  if (
    worker &&
    !worker.maintenance &&
    reason === 'aborted' &&
    result.workerRecentAborts > ctx.config.workers.autoMaintenanceAbortedJobs
  ) {
    await ctx.store.updateWorker(worker.id, {
      maintenance: true,
      maintenanceMessage: AUTO_MAINTENANCE_MESSAGE,
    });
    ctx.load.invalidate();
    ctx.events.publish({
      scope: 'worker',
      type: 'maintenance',
      workerId: worker.id,
      workerName,
      enabled: true,
      message: AUTO_MAINTENANCE_MESSAGE,
      at: now,
    });
    ctx.logger.info(
      { worker: worker.id, aborted: result.workerRecentAborts },
      'worker put into maintenance for dropping jobs',
    );
  }
}

/** Returns stale jobs to the queue and expires old requests. One pass; `createHorde` runs it on a timer. */
export async function sweep(ctx: EngineContext): Promise<{ aborted: number; expired: number }> {
  const now = ctx.clock.now();
  let aborted = 0;
  for (const job of await ctx.store.listExpiredLeases(now, 10_000)) {
    await failJobAndPublish(ctx, job, 'aborted');
    aborted++;
  }
  const expired = await ctx.store.expireRequests(now, 100_000);
  for (const request of expired) {
    ctx.events.publish({
      scope: 'request',
      type: 'expired',
      requestId: request.id,
      kind: request.kind,
      at: now,
    });
  }
  if (aborted || expired.length) ctx.logger.debug({ aborted, expired: expired.length }, 'sweep');
  return { aborted, expired: expired.length };
}
