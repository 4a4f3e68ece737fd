/**
 * The HTTP client every backend talks to its local API with: JSON in and out, a time limit per request,
 * the job's signal, and error answers turned into a `BackendError` that names the backend and carries the
 * status. Each backend passes its own error-body reader, since the bodies differ; the text backends
 * (Kobold, OpenAI completions) and the image backends (A1111, ComfyUI, openai-images) word their messages
 * differently, so the wording is an option too.
 */
import { BackendError } from './types.js';

export interface RequestOptions {
  /** The job's signal: aborting it cancels the request. @default none */
  signal?: AbortSignal;
  /** How long the request may take. @default the client's `defaultTimeoutMs` */
  timeoutMs?: number;
}

export interface BackendHttp {
  /** `GET <base><path>`: the parsed JSON answer, or undefined for an empty body. */
  get(path: string, options?: RequestOptions): Promise<unknown>;
  /** `POST <base><path>` with `body` as JSON, or as multipart when it is `FormData`: the parsed JSON answer. */
  post(path: string, body: unknown, options?: RequestOptions): Promise<unknown>;
  /**
   * `GET` of raw bytes (an image). An absolute URL is fetched as it is and without `headers`: it is usually
   * a pre-signed link on another host, which must not see the backend's API key.
   */
  getBytes(path: string, options?: RequestOptions): Promise<Buffer>;
}

/** How a backend words its failures. */
export interface BackendWording {
  /** An error answer; `route` is the path without its query, `message` what `errorMessage` read. */
  refused(status: number, route: string, message: string): string;
  /** The request's own time limit ran out. */
  timedOut(path: string, seconds: number): string;
  /** What to throw when the caller's signal aborted the request. */
  aborted(signal: AbortSignal): unknown;
  /** A successful answer that is not JSON: the message of the error to throw, or undefined to answer undefined. */
  notJson(path: string): string | undefined;
}

export interface BackendHttpOptions {
  /** The API root without a trailing slash; request paths are appended to it. */
  base: string;
  /** How messages name the backend: `Kobold API`, `OpenAI API`, `a1111`, `comfyui`, `openai-images`. */
  label: string;
  /** Sent with every request to `base` (an `authorization` header). @default none */
  headers?: Record<string, string>;
  /** For tests and proxies. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** The time limit of a request that sets no `timeoutMs`. */
  defaultTimeoutMs: number;
  /** The backend's message in an error answer: `body` is the parsed JSON (undefined if none), `text` the raw body. */
  errorMessage: (body: unknown, text: string) => string;
  /** @default the text backends' wording (`<label> answered <status>: …`); see `imageBackendWording` */
  wording?: Partial<BackendWording>;
}

/**
 * Our own time limit ran out (as opposed to the job being aborted): a backend may then stop the generation
 * it left running. Its `name` stays `BackendError`, which is what the worker tells backend failures by.
 */
export class BackendTimeoutError extends BackendError {}

export function createBackendHttp(options: BackendHttpOptions): BackendHttp {
  const { base, label, errorMessage } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const wording: BackendWording = { ...textBackendWording(label), ...options.wording };

  const send = async (method: string, path: string, body: unknown, request: RequestOptions = {}) => {
    const absolute = /^https?:\/\//i.test(path);
    const url = absolute ? path : `${base}${path}`;
    const timeoutMs = request.timeoutMs ?? options.defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let bytes: Buffer;
    try {
      response = await fetchImpl(url, {
        method,
        headers: { ...(absolute ? {} : options.headers), ...contentType(body) },
        body: body === undefined || body instanceof FormData ? body : JSON.stringify(body),
        signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
      });
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      if (request.signal?.aborted) throw wording.aborted(request.signal);
      if (timeout.aborted) throw new BackendTimeoutError(wording.timedOut(path, timeoutMs / 1000));
      const where = absolute ? new URL(url).origin : base;
      throw new BackendError(`${label} at ${where} is unreachable: ${describeFetchError(error)}`);
    }
    if (!response.ok) {
      const text = decodeText(bytes);
      const message = errorMessage(parseJson(text), text);
      throw new BackendError(wording.refused(response.status, routeOf(path), message), response.status);
    }
    return bytes;
  };

  const json = (path: string, bytes: Buffer): unknown => {
    const text = decodeText(bytes);
    if (text === '') return undefined;
    const parsed = parseJson(text);
    const notJson = parsed === undefined ? wording.notJson(path) : undefined;
    if (notJson !== undefined) throw new BackendError(notJson);
    return parsed;
  };

  return {
    get: async (path, request) => json(path, await send('GET', path, undefined, request)),
    post: async (path, body, request) => json(path, await send('POST', path, body, request)),
    getBytes: (path, request) => send('GET', path, undefined, request),
  };
}

/** The text backends' wording: `<label> answered 503: …`, and an abort is a BackendError of its own. */
function textBackendWording(label: string): BackendWording {
  return {
    refused: (status, _route, message) => `${label} answered ${status}: ${message}`,
    timedOut: (path, seconds) => `${label}: no answer from ${path} within ${seconds} s`,
    aborted: () => new BackendError(`${label}: generation aborted`),
    notJson: () => undefined,
  };
}

/**
 * The image backends' wording: `<label> /route: … (HTTP 500)`, `<label> did not answer /path within N s`,
 * an answer that is not JSON is an error, and an abort throws the job's own reason.
 */
export function imageBackendWording(label: string): BackendWording {
  return {
    refused: (status, route, message) => `${label} ${route}: ${message} (HTTP ${status})`,
    timedOut: (path, seconds) => `${label} did not answer ${path} within ${seconds} s`,
    aborted: (signal) => signal.reason,
    notJson: (path) => `${label} ${path}: answer is not JSON`,
  };
}

function contentType(body: unknown): Record<string, string> {
  // fetch writes the multipart header (with its boundary) for FormData itself.
  return body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' };
}

function routeOf(path: string): string {
  return path.split('?')[0] ?? path;
}

/** As `Response.text()` decodes: UTF-8, a byte-order mark dropped. */
function decodeText(bytes: Buffer): string {
  return new TextDecoder().decode(bytes);
}

/** The JSON in `text`, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Node's fetch says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND) is in `cause`. */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
