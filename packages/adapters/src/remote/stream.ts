/**
 * Following a request on a hordekit server: `GET /api/v2/generate/stream/{id}` (hordekit only, the public
 * horde has no push) sends Server-Sent Events — first `state` (the check counters), then `position`,
 * `processing`, `generation`, `restarted` and one final `done` / `faulted` / `cancelled` / `expired`, each
 * `data` a request event as JSON with `id` for the request id. SDK gap (the SDK knows only the public
 * API): read with `fetch` and a small line parser, no EventSource dependency.
 */
import { FINAL_REQUEST_EVENTS, type RequestEvent, type RequestKind } from '@hordekit/core';
import { fromResponse } from './errors.js';

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Splits a `text/event-stream` body into events (comments and `id:`/`retry:` fields are skipped). */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
    while (newline >= 0 && !(newline === buffer.length - 1 && buffer.endsWith('\r'))) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      newline = buffer.search(/\r\n|\r|\n/);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}

const REQUEST_EVENT_TYPES: ReadonlySet<string> = new Set<RequestEvent['type']>([
  'queued',
  'position',
  'processing',
  'generation',
  'restarted',
  'done',
  'faulted',
  'cancelled',
  'expired',
]);

export interface StreamOptions {
  /** The `…/api/v2` route of the server. */
  api: string;
  fetch: typeof fetch;
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** Thrown when the server does not stream (no such route): the caller falls back to polling. */
export class StreamUnavailable extends Error {
  override name = 'StreamUnavailable';
}

/**
 * The request's events from the stream until a final one. Resolves early (without a final event) when
 * the connection ends; rejects with the server's `HordeError` for an unknown request, and with
 * `StreamUnavailable` when the endpoint is not there.
 */
export async function* streamRequestEvents(
  requestId: string,
  options: StreamOptions,
): AsyncGenerator<RequestEvent> {
  const response = await options.fetch(`${options.api}/generate/stream/${encodeURIComponent(requestId)}`, {
    headers: { ...options.headers, Accept: 'text/event-stream' },
    signal: options.signal ?? null,
  });
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || !response.body || !type.startsWith('text/event-stream')) {
    const error = await fromResponse(response);
    // A route-less 404 carries no `rc`; the server's own "no such request" does.
    if (error.details.remoteRc === null) throw new StreamUnavailable(error.message, { cause: error });
    throw error;
  }
  let kind: RequestKind = 'image';
  let kudos = 0;
  for await (const { event, data } of readServerSentEvents(response.body)) {
    const payload = JSON.parse(data) as Record<string, unknown> & { id?: string };
    if (event === 'state') {
      if (payload.kind === 'text') kind = 'text';
      if (typeof payload.kudos === 'number') kudos = payload.kudos;
      continue;
    }
    if (!REQUEST_EVENT_TYPES.has(event)) continue;
    const { id: _id, img: _img, ...fields } = payload;
    // A request that had already ended gets `done` without its kudos: they were in `state`.
    const base = { kind, at: Date.now(), ...(event === 'done' ? { kudos } : {}) };
    yield { ...base, ...fields, type: event, requestId } as RequestEvent;
    if (FINAL_REQUEST_EVENTS.has(event as RequestEvent['type'])) return;
  }
}
