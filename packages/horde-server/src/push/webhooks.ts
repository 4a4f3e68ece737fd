/**
 * Webhooks (spec §4.9): when a request carries `webhook`, each delivered generation is POSTed there —
 * the generation as status shows it plus `request` (the request id), `id` (the job id) and `kudos`.
 * Delivery is best effort from a bounded queue (full ⇒ dropped and logged), with a timeout per attempt
 * and a few attempts with backoff; a slow receiver never slows the engine.
 */
import type { Horde, RequestEvent } from '@hordekit/core';
import type { Logger } from 'pino';
import { type ImageUrls, resultKey } from '../images.js';

export interface WebhookOptions {
  /** Deliveries waiting beyond this are dropped. @default 256 */
  maxQueue?: number;
  /** @default 3 */
  attempts?: number;
  /** Per attempt. @default 3000 */
  timeoutMs?: number;
  /** Deliveries in flight at once. @default 4 */
  concurrency?: number;
  /** The HTTP client (tests route `https://` hooks to a loopback receiver). @default globalThis.fetch */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  logger?: Logger;
}

interface Delivery {
  url: string;
  body: string;
  attempt: number;
}

export interface WebhookDispatcher {
  start(): void;
  /** Stops listening and waits (up to one attempt's timeout) for deliveries in flight. */
  close(): Promise<void>;
  /** Deliveries queued and in flight (for tests and metrics). */
  pending(): number;
}

export function createWebhookDispatcher(
  horde: Horde,
  images: ImageUrls,
  options: WebhookOptions,
): WebhookDispatcher {
  const maxQueue = options.maxQueue ?? 256;
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 3000;
  const concurrency = options.concurrency ?? 4;
  const send = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const logger = options.logger;
  const queue: Delivery[] = [];
  const inFlight = new Set<Promise<void>>();
  const retryTimers = new Set<NodeJS.Timeout>();
  let unsubscribe: (() => void) | undefined;

  async function payloadFor(event: Extract<RequestEvent, { type: 'generation' }>) {
    const request = await horde.store.getRequest(event.requestId);
    const webhook = (request?.body as { webhook?: string } | undefined)?.webhook;
    if (!request || !webhook) return undefined;
    const job = await horde.store.getJob(event.jobId);
    const base = {
      id: event.jobId,
      request: event.requestId,
      kudos: request.jobPrice / 100,
      worker_id: event.workerId,
      worker_name: event.workerName,
      model: event.model,
      state: event.state,
      gen_metadata: job?.result?.genMetadata ?? [],
    };
    if (event.kind === 'text') {
      return {
        url: webhook,
        body: { ...base, text: job?.result?.generation ?? '', seed: Number(event.seed) || 0 },
      };
    }
    const origin = request.meta.origin ?? '';
    const r2 = (request.body as { r2?: boolean }).r2 !== false;
    const img = r2
      ? images.downloadUrl(origin, resultKey(event.jobId))
      : await images.imageFor(origin, event.jobId, job?.result?.generation ?? 'R2', false);
    return { url: webhook, body: { ...base, img, seed: event.seed, censored: event.censored } };
  }

  function pump() {
    while (inFlight.size < concurrency && queue.length) {
      const delivery = queue.shift()!;
      const attempt = deliver(delivery).finally(() => {
        inFlight.delete(attempt);
        pump();
      });
      inFlight.add(attempt);
    }
  }

  async function deliver(delivery: Delivery): Promise<void> {
    try {
      const response = await send(delivery.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'hordekit-webhook/1' },
        body: delivery.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return;
      throw new Error(`receiver answered ${response.status}`);
    } catch (error) {
      if (delivery.attempt + 1 >= attempts) {
        logger?.warn({ err: error, url: delivery.url }, 'webhook dropped after its last attempt');
        return;
      }
      const timer = setTimeout(
        () => {
          retryTimers.delete(timer);
          enqueue({ ...delivery, attempt: delivery.attempt + 1 });
        },
        500 * 2 ** delivery.attempt,
      );
      timer.unref();
      retryTimers.add(timer);
    }
  }

  function enqueue(delivery: Delivery) {
    if (queue.length >= maxQueue) {
      logger?.warn({ url: delivery.url }, 'webhook queue full: delivery dropped');
      return;
    }
    queue.push(delivery);
    pump();
  }

  return {
    start() {
      if (unsubscribe) return;
      unsubscribe = horde.events.onAny((event) => {
        if (event.scope !== 'request' || event.type !== 'generation') return;
        const { scope: _scope, ...generation } = event;
        payloadFor(generation)
          .then((found) => {
            if (found) enqueue({ url: found.url, body: JSON.stringify(found.body), attempt: 0 });
          })
          .catch((error) => logger?.warn({ err: error }, 'webhook payload failed'));
      });
    },
    async close() {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      queue.length = 0;
      await Promise.allSettled([...inFlight]);
    },
    pending: () => queue.length + inFlight.size,
  };
}
