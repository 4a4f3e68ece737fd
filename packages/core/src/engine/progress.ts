/**
 * Queue positions as events: published when a request is queued, then at most once a second for requests
 * that someone watches, only when the position changed.
 */
import type { RequestRecord } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { estimateWait } from './status.js';

export async function publishQueued(ctx: EngineContext, request: RequestRecord): Promise<void> {
  const position = (await ctx.store.queuePosition(request.id))?.position ?? 0;
  ctx.events.publish({
    scope: 'request',
    type: 'queued',
    requestId: request.id,
    kind: request.kind,
    at: ctx.clock.now(),
    position,
    waitTime: await estimateWait(ctx, request),
  });
}

export interface PositionTicker {
  tick(): Promise<void>;
}

export function createPositionTicker(ctx: EngineContext): PositionTicker {
  const last = new Map<string, number>();
  return {
    async tick() {
      const watched = new Set(ctx.events.watchedRequests());
      for (const id of last.keys()) if (!watched.has(id)) last.delete(id);
      for (const id of watched) {
        const request = await ctx.store.getRequest(id);
        if (request?.state !== 'active') continue;
        const position = (await ctx.store.queuePosition(id))?.position ?? 0;
        if (last.get(id) === position) continue;
        last.set(id, position);
        ctx.events.publish({
          scope: 'request',
          type: 'position',
          requestId: id,
          kind: request.kind,
          at: ctx.clock.now(),
          position,
          waitTime: await estimateWait(ctx, request),
        });
      }
    },
  };
}
