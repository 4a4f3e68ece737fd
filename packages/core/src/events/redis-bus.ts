/**
 * An `EventBus` that fans events out between server nodes over Redis pub/sub, so an SSE stream or a chat
 * progress message follows its request whichever node served the worker. Local delivery is the memory
 * bus's; Redis only carries events to the other nodes.
 *
 * Semantics:
 * - `publish(event)` delivers to this node's listeners at once (`onRequest`, `onWorker`, `onAny`) and
 *   PUBLISHes `{ node, event }` as JSON on the channel — except `position` events, which stay local:
 *   every node computes positions for the requests its own listeners watch.
 * - An event from another node reaches `onRequest` and `onWorker` listeners only, never `onAny`:
 *   `onAny` means "events this node produced", and what subscribes there (metrics, webhook delivery)
 *   must count and deliver each event once across the horde, on the node that produced it.
 * - A node ignores its own messages (by `nodeId`). A message that is not a valid event is reported to
 *   `onListenerError` and dropped; a failed PUBLISH is reported there too. Nothing here throws.
 * - `watchedRequests()` is local: the requests this node's listeners watch.
 * - Pub/sub is at most once: events published while a node is cut off from Redis do not reach it
 *   (ioredis resubscribes on reconnect). Clients and bots fall back to polling request status.
 *
 * The two connections belong to the caller: `subscriber` is put in subscriber mode and can serve no
 * other commands, and `close()` unsubscribes without quitting either.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createMemoryEventBus, type EventBus } from './bus.js';
import type { HordeEvent } from './types.js';

export interface RedisEventBusOptions {
  /** The connection used to PUBLISH (it may serve other commands too). */
  redis: Redis;
  /** A second connection, dedicated to SUBSCRIBE. */
  subscriber: Redis;
  /** The channel every node of one horde shares. @default 'hordekit:events' */
  channel?: string;
  /** This node's id, to skip its own messages. @default a random UUID */
  nodeId?: string;
  /**
   * Called when a listener throws (the other listeners still run), when a message from Redis cannot be
   * read (`event` is then undefined) and when a PUBLISH fails. @default ignore
   */
  onListenerError?: (error: unknown, event?: HordeEvent) => void;
}

export interface RedisEventBus extends EventBus {
  /** Settles once the subscription is in place; events from other nodes arrive after that. */
  ready: Promise<void>;
  /** Unsubscribes from the channel; later events are delivered locally only. */
  close(): Promise<void>;
}

interface WireMessage {
  node: string;
  event: HordeEvent;
}

function parseMessage(text: string): WireMessage {
  const message: unknown = JSON.parse(text);
  if (typeof message === 'object' && message !== null && 'node' in message && 'event' in message) {
    const { node, event } = message as { node: unknown; event: Partial<HordeEvent> | null };
    const addressed =
      (event?.scope === 'request' && typeof event.requestId === 'string') ||
      (event?.scope === 'worker' && typeof event.workerId === 'string');
    if (typeof node === 'string' && addressed && typeof event.type === 'string') {
      return { node, event: event as HordeEvent };
    }
  }
  throw new Error('malformed event message');
}

export function createRedisEventBus(options: RedisEventBusOptions): RedisEventBus {
  const channel = options.channel ?? 'hordekit:events';
  const nodeId = options.nodeId ?? randomUUID();
  const onError = options.onListenerError ?? (() => {});
  // Two memory buses: `addressed` holds request and worker listeners (fed by every node), `produced`
  // holds `onAny` listeners (fed by this node only).
  const addressed = createMemoryEventBus({ onListenerError: onError });
  const produced = createMemoryEventBus({ onListenerError: onError });
  let closed = false;

  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    let message: WireMessage;
    try {
      message = parseMessage(text);
    } catch (error) {
      onError(error);
      return;
    }
    if (message.node === nodeId) return;
    addressed.publish(message.event);
  };
  options.subscriber.on('message', onMessage);
  const ready = options.subscriber.subscribe(channel).then(() => {});
  // The caller sees a failed subscription through `ready`; nothing else should crash on it.
  ready.catch(() => {});

  return {
    ready,
    publish(event) {
      addressed.publish(event);
      produced.publish(event);
      if (closed || (event.scope === 'request' && event.type === 'position')) return;
      const message: WireMessage = { node: nodeId, event };
      options.redis
        .publish(channel, JSON.stringify(message))
        .catch((error: unknown) => onError(error, event));
    },
    onRequest: (requestId, listener) => addressed.onRequest(requestId, listener),
    onWorker: (workerId, listener) => addressed.onWorker(workerId, listener),
    onAny: (listener) => produced.onAny(listener),
    watchedRequests: () => addressed.watchedRequests(),
    async close() {
      if (closed) return;
      closed = true;
      options.subscriber.off('message', onMessage);
      await ready.catch(() => {});
      await options.subscriber.unsubscribe(channel);
    },
  };
}
