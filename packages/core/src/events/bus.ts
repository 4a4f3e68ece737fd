/**
 * The event bus port and its in-process implementation. A multi-node deployment swaps in a bus that fans
 * events out between nodes; the engine only publishes and subscribes.
 */
import type { HordeEvent, RequestEvent, WorkerEvent } from './types.js';

export type Unsubscribe = () => void;

export interface EventBus {
  publish(event: HordeEvent): void;
  onRequest(requestId: string, listener: (event: RequestEvent) => void): Unsubscribe;
  onWorker(workerId: string, listener: (event: WorkerEvent) => void): Unsubscribe;
  onAny(listener: (event: HordeEvent) => void): Unsubscribe;
  /** Requests that currently have at least one listener (the position ticker only computes these). */
  watchedRequests(): Iterable<string>;
}

export interface MemoryEventBusOptions {
  /** Called when a listener throws; the other listeners still run. @default ignore */
  onListenerError?: (error: unknown, event: HordeEvent) => void;
}

export function createMemoryEventBus(options: MemoryEventBusOptions = {}): EventBus {
  const byRequest = new Map<string, Set<(event: RequestEvent) => void>>();
  const byWorker = new Map<string, Set<(event: WorkerEvent) => void>>();
  const any = new Set<(event: HordeEvent) => void>();
  const onError = options.onListenerError ?? (() => {});

  function add<K, L>(map: Map<K, Set<L>>, key: K, listener: L): Unsubscribe {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && map.get(key) === set) map.delete(key);
    };
  }

  function deliver<E>(listeners: Iterable<(event: E) => void> | undefined, event: E, original: HordeEvent) {
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        onError(error, original);
      }
    }
  }

  return {
    publish(event) {
      if (event.scope === 'request') {
        const { scope: _scope, ...payload } = event;
        deliver(byRequest.get(event.requestId), payload as RequestEvent, event);
      } else {
        const { scope: _scope, ...payload } = event;
        deliver(byWorker.get(event.workerId), payload as WorkerEvent, event);
      }
      deliver(any, event, event);
    },
    onRequest: (requestId, listener) => add(byRequest, requestId, listener),
    onWorker: (workerId, listener) => add(byWorker, workerId, listener),
    onAny(listener) {
      any.add(listener);
      return () => any.delete(listener);
    },
    watchedRequests: () => byRequest.keys(),
  };
}
