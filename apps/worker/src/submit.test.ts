import { describe, expect, it } from 'vitest';
import { type CallFailure, HordeCallError } from './horde-api.js';
import { type RetryPolicy, submitWithRetry, withRetry } from './submit.js';

const TINY: RetryPolicy = { attempts: 5, initialDelayMs: 2, maxDelayMs: 5 };

const failure = (kind: CallFailure, message = `${kind} failure`, status?: number, rc?: string) =>
  new HordeCallError(kind, message, status, rc);

/** A call that throws `errors` in turn, then returns `value`; counts its calls. */
function scripted<T>(errors: unknown[], value: T) {
  const remaining = [...errors];
  const call = async () => {
    call.count += 1;
    if (remaining.length > 0) throw remaining.shift();
    return value;
  };
  call.count = 0;
  return call;
}

/** Records what `onRetry` hears. */
function retryLog() {
  const entries: { failure: CallFailure; attempt: number; delayMs: number }[] = [];
  return {
    entries,
    onRetry: (error: HordeCallError, attempt: number, delayMs: number) =>
      entries.push({ failure: error.failure, attempt, delayMs }),
  };
}

describe('withRetry', () => {
  it('retries network and busy failures with doubling delays, capped', async () => {
    const call = scripted([failure('network'), failure('busy', 'HTTP 503', 503), failure('network')], 'done');
    const log = retryLog();
    const result = await withRetry(call, { attempts: 5, initialDelayMs: 3, maxDelayMs: 10 }, log);
    expect(result).toBe('done');
    expect(call.count).toBe(4);
    expect(log.entries).toEqual([
      { failure: 'network', attempt: 1, delayMs: 3 },
      { failure: 'busy', attempt: 2, delayMs: 6 },
      { failure: 'network', attempt: 3, delayMs: 10 },
    ]);
  });

  it('does not retry a refusal', async () => {
    const refusal = failure('refused', 'bad request', 400, 'BadRequest');
    const call = scripted([refusal], 'never');
    const log = retryLog();
    await expect(withRetry(call, TINY, log)).rejects.toBe(refusal);
    expect(call.count).toBe(1);
    expect(log.entries).toEqual([]);
  });

  it('does not retry a 2xx whose body was unexpected: it was received', async () => {
    const odd = failure('malformed', 'unexpected answer', 200);
    const call = scripted([odd], 'never');
    await expect(withRetry(call, TINY)).rejects.toBe(odd);
    expect(call.count).toBe(1);
  });

  it('does not retry errors that are not horde call errors', async () => {
    const bug = new TypeError('a bug');
    const call = scripted([bug], 'never');
    await expect(withRetry(call, TINY)).rejects.toBe(bug);
    expect(call.count).toBe(1);
  });

  it('throws the last error when the attempts run out', async () => {
    const errors = [failure('network', 'first'), failure('network', 'second'), failure('busy', 'third')];
    const call = scripted(errors, 'never');
    await expect(withRetry(call, { ...TINY, attempts: 3 })).rejects.toBe(errors[2]);
    expect(call.count).toBe(3);
  });

  it('waits at least Retry-After (retryAfter, in seconds)', async () => {
    const throttled = new HordeCallError('busy', 'slow down', 429, undefined, 0.06);
    const call = scripted([throttled], 'done');
    const log = retryLog();
    const started = performance.now();
    expect(await withRetry(call, { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 }, log)).toBe('done');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(log.entries).toEqual([{ failure: 'busy', attempt: 1, delayMs: 60 }]);
  });

  it('keeps its own delay when it is longer than Retry-After', async () => {
    const throttled = new HordeCallError('busy', 'slow down', 429, undefined, 0.001);
    const log = retryLog();
    await withRetry(scripted([throttled], 'done'), { attempts: 3, initialDelayMs: 8, maxDelayMs: 8 }, log);
    expect(log.entries.map((entry) => entry.delayMs)).toEqual([8]);
  });

  it('stops waiting and throws the last error when the signal aborts', async () => {
    const controller = new AbortController();
    const lost = failure('network', 'connection reset');
    const call = scripted([lost, failure('network')], 'never');
    const started = performance.now();
    const pending = withRetry(
      call,
      { attempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000 },
      { signal: controller.signal, onRetry: () => setTimeout(() => controller.abort(), 5) },
    );
    await expect(pending).rejects.toBe(lost);
    expect(call.count).toBe(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('makes no second attempt once the signal has aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const busy = failure('busy');
    const call = scripted([busy], 'never');
    const log = retryLog();
    await expect(withRetry(call, TINY, { signal: controller.signal, ...log })).rejects.toBe(busy);
    expect(call.count).toBe(1);
    expect(log.entries).toEqual([]);
  });
});

describe('submitWithRetry', () => {
  it('returns the reward of an accepted submit, after retries', async () => {
    const submit = scripted([failure('busy', 'HTTP 502', 502)], 12.5);
    expect(await submitWithRetry(submit, TINY)).toEqual({ kind: 'accepted', reward: 12.5 });
    expect(submit.count).toBe(2);
  });

  it('treats DuplicateGen as our earlier attempt having got through', async () => {
    // The first answer was lost; the retry finds the horde already has the generation.
    const byRc = scripted([failure('network'), failure('refused', 'Duplicate', 400, 'DuplicateGen')], 0);
    expect(await submitWithRetry(byRc, TINY)).toEqual({ kind: 'duplicate' });
    expect(byRc.count).toBe(2);
    const byText = scripted([failure('refused', 'Generation already submitted', 400)], 0);
    expect(await submitWithRetry(byText, TINY)).toEqual({ kind: 'duplicate' });
  });

  it('drops a job the horde no longer has (InvalidJobID, 404, "does not exist")', async () => {
    const gone = {
      kind: 'dropped',
      reason: 'the horde no longer has this job (it expired or was cancelled)',
    };
    for (const error of [
      failure('refused', 'Invalid job', 400, 'InvalidJobID'),
      failure('refused', 'Not found', 404),
      failure('refused', 'Processing Generation with ID abc does not exist.', 400),
    ]) {
      expect(await submitWithRetry(scripted([error], 0), TINY)).toEqual(gone);
    }
  });

  it('drops a job the horde aborted as too slow', async () => {
    const expected = {
      kind: 'dropped',
      reason: 'the horde aborted the job: it took too long (check your worker speed)',
    };
    const byRc = failure('refused', 'Aborted', 400, 'AbortedGen');
    expect(await submitWithRetry(scripted([byRc], 0), TINY)).toEqual(expected);
    const byText = failure('refused', 'This generation was aborted. Please check your worker speed.', 400);
    expect(await submitWithRetry(scripted([byText], 0), TINY)).toEqual(expected);
  });

  it('drops a result refused for another reason, saying why', async () => {
    const outcome = await submitWithRetry(
      scripted([failure('refused', 'Image is too big', 400, 'Weird')], 0),
      TINY,
    );
    expect(outcome).toEqual({ kind: 'dropped', reason: 'the horde refused the result: Image is too big' });
  });

  it('gives up when the horde cannot be reached, with the last reason', async () => {
    const submit = scripted(
      [
        failure('network', 'first'),
        failure('network', 'second'),
        failure('network', 'horde: connection refused'),
      ],
      0,
    );
    expect(await submitWithRetry(submit, { ...TINY, attempts: 3 })).toEqual({
      kind: 'gave-up',
      reason: 'horde: connection refused',
    });
    expect(submit.count).toBe(3);
  });

  it('counts a submit the horde took with an unexpected answer as delivered, reward unknown', async () => {
    const call = scripted([failure('malformed', 'unexpected answer', 200)], 5);
    expect(await submitWithRetry(call, TINY)).toEqual({ kind: 'accepted', reward: 0 });
    expect(call.count).toBe(1);
  });

  it('rethrows errors that are not horde call errors', async () => {
    const bug = new RangeError('a bug');
    await expect(submitWithRetry(scripted([bug], 0), TINY)).rejects.toBe(bug);
  });
});
