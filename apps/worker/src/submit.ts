/**
 * Delivering a result: uploads and submits retried with backoff while the horde cannot answer, and the
 * horde's refusals sorted into what they mean for the job (reGen's rules, spec ecosystem §1.1):
 * "already submitted" means our earlier attempt got through (done), "does not exist" and "check your
 * worker speed" mean the horde gave up on the job (dropped). Nothing is submitted twice on purpose: a
 * retry only follows an attempt whose answer never arrived or was a server error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HordeCallError } from './horde-api.js';

export type SubmitOutcome =
  | { kind: 'accepted'; reward: number }
  /** The horde already had it: an earlier attempt whose answer was lost. */
  | { kind: 'duplicate' }
  /** The horde no longer wants it (expired, aborted as too slow, unknown id, refused). */
  | { kind: 'dropped'; reason: string }
  /** Every attempt failed to reach the horde. */
  | { kind: 'gave-up'; reason: string };

export interface RetryPolicy {
  attempts: number;
  /** First pause; doubles after each failure up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_SUBMIT_RETRY: RetryPolicy = { attempts: 10, initialDelayMs: 1000, maxDelayMs: 30_000 };

export interface RetryOptions {
  /** Hears each failure before the pause that follows it. */
  onRetry?: (error: HordeCallError, attempt: number, delayMs: number) => void;
  /** Ends the retries (the last error is thrown): the worker is exiting at once. */
  signal?: AbortSignal;
}

/**
 * Runs `call` until it succeeds, fails in a way trying again cannot help (refused: a 4xx other than 408/429;
 * malformed: a 2xx with an unexpected body), the attempts run out, or `signal` aborts; then throws the last error.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<T> {
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      // Only calls whose answer never came, or came as a server error, are tried again: a refusal stays one,
      // and a 2xx with an odd body was received (a second submit would only hear "already submitted").
      const retryable =
        error instanceof HordeCallError && (error.failure === 'network' || error.failure === 'busy');
      if (!retryable || attempt >= policy.attempts || options.signal?.aborted) throw error;
      const wait = Math.max(delay, (error.retryAfter ?? 0) * 1000);
      options.onRetry?.(error, attempt, wait);
      try {
        await sleep(wait, undefined, { signal: options.signal });
      } catch {
        throw error;
      }
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}

/** Submits with `withRetry` and classifies the end. Never throws for horde answers. */
export async function submitWithRetry(
  submit: () => Promise<number>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<SubmitOutcome> {
  try {
    return { kind: 'accepted', reward: await withRetry(submit, policy, options) };
  } catch (error) {
    if (!(error instanceof HordeCallError)) throw error;
    // The horde took it (2xx) but its answer was not the usual `{reward}`: delivered, reward unknown.
    if (error.failure === 'malformed') return { kind: 'accepted', reward: 0 };
    if (error.failure !== 'refused') return { kind: 'gave-up', reason: error.message };
    return classifyRefusal(error);
  }
}

function classifyRefusal(error: HordeCallError): SubmitOutcome {
  const rc = error.rc ?? '';
  if (rc === 'DuplicateGen' || /already submitted/i.test(error.message)) return { kind: 'duplicate' };
  if (rc === 'InvalidJobID' || error.status === 404 || /does not exist/i.test(error.message)) {
    return { kind: 'dropped', reason: 'the horde no longer has this job (it expired or was cancelled)' };
  }
  if (rc === 'AbortedGen' || /check your worker speed/i.test(error.message)) {
    return {
      kind: 'dropped',
      reason: 'the horde aborted the job: it took too long (check your worker speed)',
    };
  }
  return { kind: 'dropped', reason: `the horde refused the result: ${error.message}` };
}
