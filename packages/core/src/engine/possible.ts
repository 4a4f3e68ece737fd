/**
 * `is_possible`: could any online worker serve this request now? True while a job is in flight; otherwise
 * each online worker's last declared profile is matched against the request (workers in maintenance or
 * paused only count for their owner's requests). Cost grows with the number of online workers, not the queue.
 */
import type { RequestRecord, WorkerRecord } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { indexableReason, type MatchingWorker, matchCandidate, matchingWorker } from './worker-profile.js';

/**
 * The matcher of a worker in the current load snapshot. Snapshot records are immutable and replaced at
 * most once a second, so a matcher built for one is reused by every enqueue and status check until then.
 */
async function matcherFor(ctx: EngineContext, worker: WorkerRecord): Promise<MatchingWorker | null> {
  let matcher = ctx.matchers.get(worker);
  if (matcher === undefined) {
    const owner = await ctx.store.getAccount(worker.ownerId);
    matcher = owner ? matchingWorker(ctx, worker, worker.profile, owner) : null;
    ctx.matchers.set(worker, matcher);
  }
  return matcher;
}

export async function canAnyWorkerServe(ctx: EngineContext, request: RequestRecord): Promise<boolean> {
  if (request.processing > 0) return true;
  const { online } = await ctx.load.snapshot(request.kind);
  for (const worker of online) {
    if ((worker.maintenance || worker.paused) && worker.ownerId !== request.accountId) continue;
    const matcher = await matcherFor(ctx, worker);
    if (!matcher) continue;
    if (indexableReason(matcher, request) !== null) continue;
    if (matchCandidate(matcher, request).ok) return true;
  }
  return false;
}
