/**
 * `is_possible`: could any online worker serve this request now? True while a job is in flight; otherwise
 * each online worker's last declared profile is matched against the request (workers in maintenance or
 * paused only count for their owner's requests). Cost grows with the number of online workers, not the queue.
 */
import type { RequestRecord } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { indexableReason, matchCandidate, matchingWorker } from './worker-profile.js';

export async function canAnyWorkerServe(ctx: EngineContext, request: RequestRecord): Promise<boolean> {
  if (request.processing > 0) return true;
  const { online } = await ctx.load.snapshot(request.kind);
  for (const worker of online) {
    if ((worker.maintenance || worker.paused) && worker.ownerId !== request.accountId) continue;
    const owner = await ctx.store.getAccount(worker.ownerId);
    if (!owner) continue;
    const matcher = matchingWorker(ctx, worker, worker.profile, owner);
    if (indexableReason(matcher, request) !== null) continue;
    if (matchCandidate(matcher, request).ok) return true;
  }
  return false;
}
