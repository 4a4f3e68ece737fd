/**
 * Text backend for the KoboldAI API: koboldcpp, and KoboldAI United (which lacks koboldcpp's `/api/extra`
 * routes). The horde's text payload already uses Kobold field names, so a job passes through almost
 * unchanged; only `max_length` / `max_context_length` are clamped to what this backend accepts.
 *
 * koboldcpp extras, used when they answer: the true context size, progress (`/api/extra/generate/check`)
 * and abort (`/api/extra/abort`). Both are keyed by a per-job `genkey`, as Kobold Lite does, so a
 * multi-user koboldcpp reports and stops only our generation, never someone else's.
 */
import { randomUUID } from 'node:crypto';
import { type BackendHttp, BackendTimeoutError, createBackendHttp } from './backend-http.js';
import {
  BackendError,
  type GeneratedText,
  type JobContext,
  type TextBackend,
  type TextJob,
} from './types.js';

export interface KoboldBackendOptions {
  /** Where the KoboldAI API listens, without `/api` (koboldcpp: `http://127.0.0.1:5001`). */
  url: string;
  /** The model name advertised to the horde. @default the backend's `/api/v1/model` (`koboldcpp/<name>`) */
  hordeModel?: string;
  /** Largest generation in tokens. @default `/api/v1/config/max_length`, else 512 */
  maxLength?: number;
  /**
   * Largest context (prompt + generation) in tokens.
   * @default `/api/extra/true_max_context_length` (koboldcpp), else `/api/v1/config/max_context_length`, else 2048
   */
  maxContextLength?: number;
  /** How long one generation may take before it is aborted. @default 300000 */
  timeoutMs?: number;
  /** How often to ask koboldcpp for the text so far (progress). @default 1000 */
  progressIntervalMs?: number;
  /** For tests and proxies. @default globalThis.fetch */
  fetch?: typeof fetch;
}

export const KOBOLD_DEFAULT_MAX_LENGTH = 512;
export const KOBOLD_DEFAULT_MAX_CONTEXT_LENGTH = 2048;
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 1000;
/** Model, limits, progress and abort calls are quick; a backend that takes longer is not healthy. */
const INFO_TIMEOUT_MS = 15_000;
/** The horde rewards text by characters / 4; the same estimate turns partial text into progress. */
const CHARS_PER_TOKEN = 4;

/** Connects to the KoboldAI API at `options.url` and learns its model and limits. */
export async function createKoboldBackend(options: KoboldBackendOptions): Promise<TextBackend> {
  const http = createBackendHttp({
    base: options.url.replace(/\/+$/, ''),
    label: 'Kobold API',
    fetch: options.fetch,
    defaultTimeoutMs: INFO_TIMEOUT_MS,
    errorMessage: koboldErrorMessage,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;

  // Asking for the model first makes an unreachable backend fail here, with a clear message.
  await readModelName(http);
  const maxContextLength =
    options.maxContextLength ??
    (await readFirstValue(http, [
      '/api/extra/true_max_context_length',
      '/api/v1/config/max_context_length',
    ])) ??
    KOBOLD_DEFAULT_MAX_CONTEXT_LENGTH;
  const maxLength =
    options.maxLength ??
    (await readFirstValue(http, ['/api/v1/config/max_length'])) ??
    KOBOLD_DEFAULT_MAX_LENGTH;

  return {
    kind: 'koboldcpp',
    maxLength,
    maxContextLength,
    // Read on every call: koboldcpp can switch models at runtime (admin reload).
    models: async () => [options.hordeModel ?? (await readModelName(http))],
    generate: (job, context) =>
      generateText(http, job, context, { maxLength, maxContextLength, timeoutMs, progressIntervalMs }),
  };
}

interface GenerateSettings {
  maxLength: number;
  maxContextLength: number;
  timeoutMs: number;
  progressIntervalMs: number;
}

async function generateText(
  http: BackendHttp,
  job: TextJob,
  context: JobContext,
  settings: GenerateSettings,
): Promise<GeneratedText> {
  const genkey = `KCPP${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const payload = buildGeneratePayload(job, settings, genkey);
  const stopPolling = pollProgress(http, genkey, payload.max_length, settings.progressIntervalMs, context);
  const abortBackend = () => void http.post('/api/extra/abort', { genkey }).catch(() => undefined);
  context.signal.addEventListener('abort', abortBackend, { once: true });
  try {
    const body = await http.post('/api/v1/generate', payload, {
      signal: context.signal,
      timeoutMs: settings.timeoutMs,
    });
    return { text: readResultText(body, 'generate') };
  } catch (error) {
    // Our own timeout leaves koboldcpp generating for nobody: stop it too.
    if (error instanceof BackendTimeoutError) abortBackend();
    throw error;
  } finally {
    stopPolling();
    context.signal.removeEventListener('abort', abortBackend);
  }
}

/** The horde payload as Kobold's `/api/v1/generate` takes it, with lengths clamped to this backend. */
export function buildGeneratePayload(
  job: TextJob,
  limits: { maxLength: number; maxContextLength: number },
  genkey: string,
): Record<string, unknown> & { max_length: number } {
  return {
    ...job.params,
    prompt: job.prompt,
    max_length: Math.min(job.maxLength, limits.maxLength),
    max_context_length: Math.min(job.maxContextLength, limits.maxContextLength),
    // Keeps the horde user's prompt out of koboldcpp's console, as the legacy horde worker does.
    quiet: true,
    genkey,
  };
}

/**
 * Asks koboldcpp for the text so far every `intervalMs` and reports `tokens / max_length`. Stops asking for
 * good when the route does not exist (KoboldAI United); other failures only skip one report.
 */
function pollProgress(
  http: BackendHttp,
  genkey: string,
  maxLength: number,
  intervalMs: number,
  context: JobContext,
): () => void {
  let stopped = false;
  let asking = false;
  const check = async () => {
    if (asking || stopped) return;
    asking = true;
    try {
      const body = await http.post('/api/extra/generate/check', { genkey }, { timeoutMs: INFO_TIMEOUT_MS });
      const text = readResultText(body, 'generate/check');
      if (!stopped) context.progress(Math.min(1, estimateTokens(text) / Math.max(1, maxLength)));
    } catch (error) {
      if (error instanceof BackendError && [404, 405, 501].includes(error.status ?? 0)) stop();
    } finally {
      asking = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  function stop() {
    stopped = true;
    clearInterval(timer);
  }
  return stop;
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

async function readModelName(http: BackendHttp): Promise<string> {
  const body = await http.get('/api/v1/model');
  const result = (body as { result?: unknown } | undefined)?.result;
  if (typeof result !== 'string' || result === '') {
    throw new BackendError('Kobold API: /api/v1/model did not name a model');
  }
  return result;
}

/** The first `{value}` among `paths` that is a positive integer; routes this flavour lacks are skipped. */
async function readFirstValue(http: BackendHttp, paths: string[]): Promise<number | undefined> {
  for (const path of paths) {
    try {
      const value = ((await http.get(path)) as { value?: unknown } | undefined)?.value;
      if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
    } catch {
      // Not offered by this backend (404) or not answering: try the next source, then the default.
    }
  }
  return undefined;
}

function readResultText(body: unknown, route: string): string {
  const results = (body as { results?: unknown } | undefined)?.results;
  const text = Array.isArray(results) ? (results[0] as { text?: unknown } | undefined)?.text : undefined;
  if (typeof text !== 'string') throw new BackendError(`Kobold API: unexpected answer from ${route}`);
  return text;
}

// --- Error answers -------------------------------------------------------------------------------------

/**
 * The message in a Kobold error body: koboldcpp sends `{detail: {msg, type}}`, KoboldAI United's
 * validation sends `{detail: {field: [messages]}}`, FastAPI-style servers `{detail: [{msg}]}`.
 */
function koboldErrorMessage(body: unknown, text: string): string {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail))
    return detail.map((entry) => messageOf(entry) ?? JSON.stringify(entry)).join('; ');
  if (typeof detail === 'object' && detail !== null) {
    const msg = messageOf(detail);
    if (msg) return msg;
    return Object.entries(detail)
      .map(
        ([field, problems]) =>
          `${field}: ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`,
      )
      .join('; ');
  }
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === 'string') return error;
  return messageOf(error) ?? messageOf(body) ?? (text.trim().slice(0, 200) || 'no message');
}

function messageOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { msg, message } = value as { msg?: unknown; message?: unknown };
  if (typeof msg === 'string') return msg;
  if (typeof message === 'string') return message;
  return undefined;
}
