/** Timing and memory helpers shared by the benchmark scenarios. Times are microseconds. */

export interface Distribution {
  samples: number;
  median: number;
  p99: number;
}

/** Microseconds since an arbitrary origin (monotonic). */
export function nowUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

export function distribution(times: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(times).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
  return { samples: sorted.length, median: at(0.5), p99: at(0.99) };
}

/** Times `count` sequential calls of `run` after `warmup` untimed ones. */
export async function timeCalls(
  count: number,
  run: (i: number) => Promise<unknown> | unknown,
  warmup = Math.min(1000, count),
): Promise<Distribution> {
  for (let i = 0; i < warmup; i++) await run(i);
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = nowUs();
    await run(i);
    times[i] = nowUs() - start;
  }
  return distribution(times);
}

export interface Memory {
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

/** Memory after a full collection when the process runs with `--expose-gc` (the orchestrator passes it). */
export function memoryNow(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  const mb = (bytes: number) => bytes / 2 ** 20;
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

export function memoryDelta(after: Memory, before: Memory): Memory {
  return {
    rssMb: after.rssMb - before.rssMb,
    heapUsedMb: after.heapUsedMb - before.heapUsedMb,
    externalMb: after.externalMb - before.externalMb,
  };
}

/** Scenario processes print their result as the last line, after this marker; the orchestrator parses it. */
export const RESULT_MARKER = 'BENCH_RESULT ';

export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

export interface StoreCallTimes {
  /** Microseconds spent inside store methods (the SQLite driver is synchronous, so this is all its work). */
  us: number;
  calls: number;
}

/**
 * Times every call into the store's methods until `stop()`, which restores them. The store is patched on
 * the instance for the duration only, so the other measurements run on the untouched store.
 */
export function timeStoreCalls(store: object): { times: StoreCallTimes; stop: () => void } {
  const target = store as Record<string, unknown>;
  const times: StoreCallTimes = { us: 0, calls: 0 };
  const originals = new Map<string, unknown>();
  for (const key of Object.keys(target)) {
    const original = target[key];
    if (typeof original !== 'function') continue;
    originals.set(key, original);
    target[key] = (...args: unknown[]) => {
      const start = nowUs();
      try {
        return (original as (...a: unknown[]) => unknown).apply(store, args);
      } finally {
        times.us += nowUs() - start;
        times.calls++;
      }
    };
  }
  return {
    times,
    stop: () => {
      for (const [key, original] of originals) target[key] = original;
    },
  };
}
