/**
 * The worker's side of the AI Horde API v2: pop, upload, submit, find_user. Plain `fetch` with a timeout
 * per call; answers are checked with lenient zod schemas (unknown fields pass, wrong types fail) so a
 * different horde's extra fields never break the worker. Failures come out as one `HordeCallError` that
 * says whether trying again can help.
 */
import { z } from 'zod';

export const DEFAULT_TIMEOUT_MS = 40_000;

/** `http://host:7001`, `…/api`, `…/api/` and `…/api/v2` all mean the same horde. */
export function normaliseHordeUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (/\/api\/v2$/.test(trimmed)) return trimmed;
  if (/\/api$/.test(trimmed)) return `${trimmed}/v2`;
  return `${trimmed}/api/v2`;
}

export type CallFailure =
  /** No answer: connection refused, reset, DNS, timeout. Retry. */
  | 'network'
  /** 5xx or 429: the horde is struggling or throttling. Retry after a pause. */
  | 'busy'
  /** Any other 4xx: this call will not succeed as it is. */
  | 'refused'
  /** 2xx with a body that is not what the API promises. */
  | 'malformed';

export class HordeCallError extends Error {
  override name = 'HordeCallError';
  constructor(
    readonly failure: CallFailure,
    message: string,
    /** HTTP status, when there was an answer. */
    readonly status?: number,
    /** The horde's `rc`, when it sent one. */
    readonly rc?: string,
    /** Seconds from `Retry-After`, on 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const GenMetadata = z.object({ type: z.string(), value: z.string(), ref: z.string().optional() });

const Skipped = z.record(z.string(), z.number()).catch({});
const Messages = z
  .array(z.object({ id: z.string().optional(), message: z.string() }).loose())
  .catch([])
  .optional();

const nullableString = z.string().nullish();

export const ImagePopAnswer = z
  .object({
    id: nullableString,
    ids: z.array(z.string()).default([]),
    model: nullableString,
    ttl: z.number().nullish(),
    payload: z.record(z.string(), z.unknown()).nullish(),
    source_image: nullableString,
    source_processing: nullableString,
    source_mask: nullableString,
    r2_upload: nullableString,
    r2_uploads: z.array(z.string()).nullish(),
    skipped: Skipped.default({}),
    messages: Messages,
  })
  .loose();
export type ImagePopAnswer = z.output<typeof ImagePopAnswer>;

export const TextPopAnswer = z
  .object({
    id: nullableString,
    ids: z.array(z.string()).default([]),
    model: nullableString,
    ttl: z.number().nullish(),
    payload: z.record(z.string(), z.unknown()).nullish(),
    softprompt: nullableString,
    skipped: Skipped.default({}),
    messages: Messages,
  })
  .loose();
export type TextPopAnswer = z.output<typeof TextPopAnswer>;

const SubmitAnswer = z.object({ reward: z.number().default(0) }).loose();
const UserAnswer = z.object({ id: z.number(), username: z.string(), kudos: z.number().default(0) }).loose();
export type UserAnswer = z.output<typeof UserAnswer>;

export interface ImageSubmit {
  id: string;
  generation: string;
  seed: number;
  state: 'ok' | 'censored' | 'csam' | 'faulted';
  gen_metadata?: z.input<typeof GenMetadata>[];
}

export interface TextSubmit {
  id: string;
  generation: string;
  seed?: number;
  state: 'ok' | 'faulted';
  gen_metadata?: z.input<typeof GenMetadata>[];
}

export interface HordeApiOptions {
  /** The horde, in any of the forms `normaliseHordeUrl` accepts. */
  url: string;
  apiKey: string;
  /** Sent as `Client-Agent`; the bridge agent is the natural value. */
  clientAgent: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class HordeApi {
  readonly base: string;
  readonly #apiKey: string;
  readonly #clientAgent: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HordeApiOptions) {
    this.base = normaliseHordeUrl(options.url);
    this.#apiKey = options.apiKey;
    this.#clientAgent = options.clientAgent;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? fetch;
  }

  popImage(body: Record<string, unknown>, signal?: AbortSignal): Promise<ImagePopAnswer> {
    return this.#json('POST', '/generate/pop', ImagePopAnswer, body, signal);
  }

  popText(body: Record<string, unknown>, signal?: AbortSignal): Promise<TextPopAnswer> {
    return this.#json('POST', '/generate/text/pop', TextPopAnswer, body, signal);
  }

  async submitImage(body: ImageSubmit): Promise<number> {
    return (await this.#json('POST', '/generate/submit', SubmitAnswer, body)).reward;
  }

  async submitText(body: TextSubmit): Promise<number> {
    return (await this.#json('POST', '/generate/text/submit', SubmitAnswer, body)).reward;
  }

  findUser(): Promise<UserAnswer> {
    return this.#json('GET', '/find_user', UserAnswer);
  }

  /** PUTs the image to a signed upload URL; only 200 counts (reGen's rule). */
  async upload(url: string, bytes: Buffer): Promise<void> {
    const response = await this.#send(url, {
      method: 'PUT',
      body: new Uint8Array(bytes),
      headers: { 'content-type': 'image/webp' },
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status !== 200) throw statusError(response, `upload answered ${response.status}`);
  }

  /** Downloads a source image (URL) the horde pointed at. */
  async download(url: string, signal?: AbortSignal): Promise<Buffer> {
    const response = await this.#send(url, { method: 'GET', signal });
    if (!response.ok) throw statusError(response, `download answered ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }

  async #json<Schema extends z.ZodType>(
    method: string,
    path: string,
    schema: Schema,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<z.output<Schema>> {
    const response = await this.#send(`${this.base}${path}`, {
      method,
      signal,
      headers: {
        apikey: this.#apiKey,
        'client-agent': this.#clientAgent,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text().catch(() => '');
    const parsed = parseJson(text);
    if (!response.ok) {
      const { message, rc } = errorFields(parsed);
      throw statusError(response, message ?? `${method} ${path} answered ${response.status}`, rc);
    }
    const checked = schema.safeParse(parsed);
    if (!checked.success) {
      throw new HordeCallError(
        'malformed',
        `${method} ${path}: unexpected answer (${checked.error.issues[0]?.message ?? 'not JSON'})`,
        response.status,
      );
    }
    return checked.data;
  }

  async #send(url: string, init: RequestInit): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await this.#fetch(url, { ...init, signal });
    } catch (error) {
      const reason = timeout.aborted
        ? `no answer within ${this.#timeoutMs / 1000} s`
        : describeNetwork(error);
      throw new HordeCallError('network', `${hostOf(url)}: ${reason}`);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFields(body: unknown): { message?: string; rc?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { message, rc } = body as Record<string, unknown>;
  return {
    message: typeof message === 'string' ? message : undefined,
    rc: typeof rc === 'string' ? rc : undefined,
  };
}

function statusError(response: Response, message: string, rc?: string): HordeCallError {
  const status = response.status;
  const failure: CallFailure = status >= 500 || status === 429 || status === 408 ? 'busy' : 'refused';
  return new HordeCallError(
    failure,
    message,
    status,
    rc,
    retryAfterSeconds(response.headers.get('retry-after')),
  );
}

/** `Retry-After` as seconds from now: either form HTTP allows (delta seconds or an HTTP date). */
function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

function describeNetwork(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the horde running?)';
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : String(cause);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
