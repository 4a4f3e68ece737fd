/**
 * `GET /api/v2/generate/stream/{id}` (beyond the public horde): Server-Sent Events of one request's
 * progress, image or text. The first event is the current `state` (the check numbers), then the current
 * `position` while it waits; then `position`, `processing`, `generation`, `restarted` as they happen, and
 * one final `done` / `faulted` / `cancelled` / `expired`, after which the stream ends. Comments keep idle connections alive through proxies.
 */
import { FINAL_REQUEST_EVENTS, type RequestEvent } from '@hordekit/core';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { resultKey } from '../images.js';
import type { RouteDeps } from '../server.js';
import { limit, looksLikeId, originOf } from './shared.js';

const KEEPALIVE_MS = 15_000;

export function streamRoutes(deps: RouteDeps) {
  const { horde, images } = deps;
  const app = new Hono<ServerEnv>();

  app.get('/generate/stream/:id', limit(deps, 'check'), async (c) => {
    const id = c.req.param('id');
    const request = looksLikeId(id) ? await horde.store.getRequest(id) : undefined;
    if (!request || request.state === 'expired') {
      throw new HttpError(
        'RequestNotFound',
        'No request with this id is known: it never existed, or it expired.',
      );
    }
    const origin = originOf(c);
    return streamSSE(c, async (stream) => {
      const queue: RequestEvent[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = horde.onRequest(id, (event) => {
        queue.push(event);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        const check = await horde.checkRequest(id);
        await stream.writeSSE({ event: 'state', data: JSON.stringify({ id, kind: request.kind, ...check }) });
        if (check.done) {
          await stream.writeSSE({ event: check.faulted ? 'faulted' : 'done', data: JSON.stringify({ id }) });
          return;
        }
        if (check.waiting > 0) {
          // Where it stands now, in the shape of the `position` events that follow as it moves.
          const now = {
            id,
            kind: request.kind,
            type: 'position',
            position: check.queue_position,
            waitTime: check.wait_time,
          };
          await stream.writeSSE({
            event: 'position',
            data: JSON.stringify({ ...now, at: horde.clock.now() }),
          });
        }
        while (!stream.aborted) {
          const event = queue.shift();
          if (!event) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, KEEPALIVE_MS).unref();
            });
            wake = undefined;
            if (!queue.length && !stream.aborted) await stream.write(': keepalive\n\n');
            continue;
          }
          const { requestId: _requestId, ...payload } = event;
          const data: Record<string, unknown> = { id, ...payload };
          if (event.type === 'generation' && event.kind === 'image') {
            data.img = images.downloadUrl(origin, resultKey(event.jobId));
          }
          await stream.writeSSE({ event: event.type, data: JSON.stringify(data) });
          if (FINAL_REQUEST_EVENTS.has(event.type)) break;
        }
      } finally {
        unsubscribe();
      }
    });
  });

  return app;
}
