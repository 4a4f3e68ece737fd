/**
 * The horde's current capacity, per kind: online workers, their threads and mean speed. Refreshed from
 * the store at most once a second (status checks and the free-tier rules read it on every call).
 */
import type { Clock } from '../clock.js';
import type { WorkerConfig } from '../config.js';
import type { HordeStore, RequestKind, WorkerRecord } from '../storage/types.js';

export interface LoadSnapshot {
  at: number;
  /** Workers that checked in within the online window. */
  online: WorkerRecord[];
  /** Σ threads of online workers not in maintenance. */
  activeThreads: number;
  /** Mean of every online worker's speed (things per second); the initial speed when none. */
  meanSpeed: number;
}

export interface LoadTracker {
  snapshot(kind: RequestKind): Promise<LoadSnapshot>;
  /** Forget the cached snapshots (after a worker changes). */
  invalidate(): void;
}

export function workerSpeed(worker: WorkerRecord, config: WorkerConfig): number {
  if (worker.speedSamples.length === 0) {
    return worker.kind === 'image' ? config.initialImageSpeed : config.initialTextSpeed;
  }
  let sum = 0;
  for (const sample of worker.speedSamples) sum += sample;
  return sum / worker.speedSamples.length;
}

export function createLoadTracker(
  store: HordeStore,
  clock: Clock,
  config: WorkerConfig,
  maxAgeMs = 1000,
): LoadTracker {
  const cache = new Map<RequestKind, LoadSnapshot>();
  return {
    async snapshot(kind) {
      const now = clock.now();
      const cached = cache.get(kind);
      if (cached && now - cached.at < maxAgeMs && now >= cached.at) return cached;
      const online = await store.listWorkers({ kind, onlineSince: now - config.onlineWindowMs });
      let activeThreads = 0;
      let speedSum = 0;
      for (const worker of online) {
        if (!worker.maintenance && !worker.paused) activeThreads += worker.profile.threads;
        speedSum += workerSpeed(worker, config);
      }
      const initial = kind === 'image' ? config.initialImageSpeed : config.initialTextSpeed;
      const snapshot: LoadSnapshot = {
        at: now,
        online,
        activeThreads,
        meanSpeed: online.length ? speedSum / online.length : initial,
      };
      cache.set(kind, snapshot);
      return snapshot;
    },
    invalidate() {
      cache.clear();
    },
  };
}
