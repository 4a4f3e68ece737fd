/**
 * The few AI Horde v2 calls a client needs to make an image (spec §1.1): queue it, check on it, fetch the
 * results, cancel it, download an image. Answers are checked with zod, leniently: unknown fields pass,
 * missing optional ones get the AI Horde's defaults.
 */
import { z } from 'zod';

export interface HordeClientOptions {
  /** The API root, ending in `/api/v2`. */
  api: string;
  /** Sent as `apikey` on every horde call (never to image download URLs). */
  apiKey: string;
  /** `name:version:contact`, sent as `Client-Agent`. */
  clientAgent: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Each call gives up after this long. @default 30000 */
  requestTimeoutMs?: number;
}

/** The horde answered with an error: its `rc` (or `HTTP <status>`) and its message. */
export class HordeApiError extends Error {
  override readonly name = 'HordeApiError';
  constructor(
    readonly status: number,
    readonly rc: string,
    message: string,
    /** `POST /generate/async` … */
    readonly call: string,
  ) {
    super(message);
  }
}

/** The horde could not be reached, or did not answer in time, or answered something that is not the API. */
export class HordeConnectionError extends Error {
  override readonly name = 'HordeConnectionError';
}

const asyncAnswerSchema = z.looseObject({
  id: z.string().min(1),
  kudos: z.number().default(0),
  message: z.string().optional(),
  warnings: z
    .array(z.looseObject({ code: z.string().optional(), message: z.string().optional() }))
    .default([]),
});

const checkSchema = z.looseObject({
  finished: z.number().default(0),
  processing: z.number().default(0),
  restarted: z.number().default(0),
  waiting: z.number().default(0),
  done: z.boolean(),
  faulted: z.boolean().default(false),
  wait_time: z.number().default(0),
  queue_position: z.number().default(0),
  kudos: z.number().default(0),
  is_possible: z.boolean().default(true),
});

const generationSchema = z.looseObject({
  img: z.string(),
  seed: z.union([z.string(), z.number()]).transform(String).default(''),
  id: z.string().optional(),
  worker_id: z.string().optional(),
  worker_name: z.string().optional(),
  model: z.string().optional(),
  censored: z.boolean().default(false),
});

const statusSchema = checkSchema.extend({
  generations: z.array(generationSchema).default([]),
});

const errorSchema = z.looseObject({
  message: z.string().optional(),
  rc: z.string().optional(),
  /** A ValidationError's reasons, field path → reason. */
  errors: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

export type AsyncAnswer = z.infer<typeof asyncAnswerSchema>;
export type CheckAnswer = z.infer<typeof checkSchema>;
export type StatusAnswer = z.infer<typeof statusSchema>;
export type Generation = z.infer<typeof generationSchema>;

export interface HordeClient {
  /** `POST /generate/async`: queues an image request. */
  generateAsync(body: unknown): Promise<AsyncAnswer>;
  /** `GET /generate/check/{id}`: progress without results (cheap: 10/s per request on the public horde). */
  check(id: string): Promise<CheckAnswer>;
  /** `GET /generate/status/{id}`: progress and results (expensive: 10/min per request on the public horde). */
  status(id: string): Promise<StatusAnswer>;
  /** `DELETE /generate/status/{id}`: cancels; answers the status as it was. */
  cancel(id: string): Promise<StatusAnswer>;
  /** Downloads an image URL (a presigned URL: no API key is sent). */
  download(url: string): Promise<Buffer>;
}

export function createHordeClient(options: HordeClientOptions): HordeClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;

  async function send(method: string, path: string, body?: unknown): Promise<unknown> {
    const call = `${method} ${path.replace(/[0-9a-f-]{36}/, '{id}')}`;
    const headers: Record<string, string> = { apikey: options.apiKey, 'Client-Agent': options.clientAgent };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(`${options.api}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new HordeConnectionError(`could not reach the horde at ${options.api} (${reason(error)})`, {
        cause: error,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = errorSchema.safeParse(json);
      const rc = (error.success && error.data.rc) || `HTTP ${response.status}`;
      const message = (error.success && error.data.message) || text.slice(0, 200) || response.statusText;
      const reasons = Object.entries((error.success && error.data.errors) || {});
      const detail = reasons.map(([field, reason]) => `${field}: ${String(reason)}`).join('; ');
      throw new HordeApiError(response.status, rc, detail ? `${message} (${detail})` : message, call);
    }
    if (json === undefined) {
      throw new HordeConnectionError(
        `${call} answered ${response.status} without JSON: is ${options.api} a horde?`,
      );
    }
    return json;
  }

  function validate<T>(schema: z.ZodType<T>, value: unknown, call: string): T {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const detail = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new HordeConnectionError(`${call} answered something unexpected (${detail.join('; ')})`);
  }

  const path = (id: string) => encodeURIComponent(id);

  return {
    async generateAsync(body) {
      return validate(asyncAnswerSchema, await send('POST', '/generate/async', body), 'POST /generate/async');
    },
    async check(id) {
      return validate(checkSchema, await send('GET', `/generate/check/${path(id)}`), 'GET /generate/check');
    },
    async status(id) {
      return validate(
        statusSchema,
        await send('GET', `/generate/status/${path(id)}`),
        'GET /generate/status',
      );
    },
    async cancel(id) {
      return validate(
        statusSchema,
        await send('DELETE', `/generate/status/${path(id)}`),
        'DELETE /generate/status',
      );
    },
    async download(url) {
      let response: Response;
      try {
        response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new HordeConnectionError(`could not download ${url} (${reason(error)})`, { cause: error });
      }
      if (!response.ok) {
        await response.arrayBuffer().catch(() => undefined);
        throw new HordeConnectionError(`downloading ${url} failed: HTTP ${response.status}`);
      }
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

/** The useful part of a fetch failure: `ECONNREFUSED`, `timed out`, … */
function reason(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = error.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
