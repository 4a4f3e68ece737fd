/**
 * Telegram's flood control, respected: a call answered 429 with `parameters.retry_after` is retried after
 * that many seconds, a couple of times at most. A grammY API transformer (`bot.api.config.use(...)`), so
 * it covers every call the adapter makes, progress edits included; grammY itself never retries.
 */
import type { Transformer } from 'grammy';

export interface FloodRetryOptions {
  /** Retries of one call after a 429. @default 2 */
  maxRetries?: number;
  /** Waits longer than this are not worth it: the 429 is passed on instead. @default 60 */
  maxWaitSeconds?: number;
  /** Called before each wait (logging). */
  onWait?: (method: string, seconds: number) => void;
}

export function floodRetry(options: FloodRetryOptions = {}): Transformer {
  const maxRetries = options.maxRetries ?? 2;
  const maxWait = options.maxWaitSeconds ?? 60;
  return async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt += 1) {
      const result = await prev(method, payload, signal);
      const wait = result.ok ? undefined : result.parameters?.retry_after;
      if (wait === undefined || attempt >= maxRetries || wait > maxWait || signal?.aborted) return result;
      options.onWait?.(method, wait);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  };
}
