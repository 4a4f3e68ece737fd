/**
 * `watch` of the remote client: the SSE stream when the horde is hordekit, polling otherwise (or when the
 * stream cannot be opened). A dropped stream is reopened — its first events say where the request stands
 * — and after a few failed attempts the watch continues by polling. Ends quietly when `signal` aborts, like
 * the embedded client's.
 */
import { FINAL_REQUEST_EVENTS, HordeError, type RequestEvent, type RequestKind } from '@hordekit/core';
import { type PollSource, pollRequestEvents, sleep } from './poll.js';
import { StreamUnavailable, streamRequestEvents } from './stream.js';

export interface RemoteWatchOptions {
  api: string;
  fetch: typeof fetch;
  headers: Record<string, string>;
  pollIntervalMs: number;
  signal?: AbortSignal | undefined;
  /** Whether the horde streams (asked once per client). */
  streams: () => Promise<boolean>;
  /** The request's kind, and the model it asked for when this client sent it. */
  request: () => Promise<{ kind: RequestKind; model?: string | undefined }>;
  source: PollSource;
}

/** Failed attempts to (re)open the stream before the watch falls back to polling. */
const STREAM_ATTEMPTS = 3;

export async function* watchRemoteRequest(
  requestId: string,
  options: RemoteWatchOptions,
): AsyncGenerator<RequestEvent> {
  const { signal } = options;
  try {
    if (await options.streams()) {
      let failures = 0;
      while (!signal?.aborted && failures < STREAM_ATTEMPTS) {
        let delivered = false;
        try {
          for await (const event of streamRequestEvents(requestId, options)) {
            delivered = true;
            yield event;
            if (FINAL_REQUEST_EVENTS.has(event.type)) return;
          }
          // The connection ended early: reopen it (a stream that said nothing counts as a failure).
          failures = delivered ? 0 : failures + 1;
        } catch (error) {
          if (signal?.aborted) return;
          if (error instanceof StreamUnavailable) break;
          // The server's refusal (no such request) is the answer; a broken connection is retried.
          if (error instanceof HordeError) throw error;
          failures += 1;
        }
        await sleep(options.pollIntervalMs, signal);
      }
    }
    if (signal?.aborted) return;
    const { kind, model } = await options.request();
    yield* pollRequestEvents(options.source, requestId, {
      kind,
      model,
      intervalMs: options.pollIntervalMs,
      signal,
    });
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
}
