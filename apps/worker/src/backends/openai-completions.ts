/**
 * Text backend for an OpenAI-compatible `/v1/completions` endpoint: llama.cpp's `llama-server`, vLLM,
 * Aphrodite, TabbyAPI, Ollama. The horde sends Kobold-style sampler fields; this file maps the ones the
 * legacy AI-Horde-Worker maps (its `HORDE_BACKEND_OPENAI_API` mode) onto OpenAI names.
 *
 * | Kobold (horde payload)     | OpenAI `/v1/completions`  | Notes                                               |
 * |----------------------------|---------------------------|-----------------------------------------------------|
 * | `prompt`                   | `prompt`                  |                                                     |
 * | `max_length`               | `max_tokens`              | clamped to this backend's `maxLength`               |
 * | `temperature`              | `temperature`             |                                                     |
 * | `top_p`                    | `top_p`                   |                                                     |
 * | `top_k`                    | `top_k`                   | Kobold's 0 ("off") becomes -1 (vLLM's "off"; llama.cpp treats ≤ 0 as off) |
 * | `rep_pen`                  | `repetition_penalty`      | vLLM / Aphrodite / TabbyAPI; llama.cpp and Ollama ignore it |
 * | `min_p`                    | `min_p`                   |                                                     |
 * | `stop_sequence`            | `stop`                    | the first 4 (OpenAI's limit)                        |
 * | `sampler_seed` or `seed`   | `seed`                    | integers only                                       |
 * | —                          | `model`                   | `options.model`, else the first of `/v1/models`     |
 *
 * Not sent: `max_context_length` (the horde client already cut the prompt to fit), `top_a`, `typical`, `tfs`,
 * `rep_pen_range`, `rep_pen_slope`, `sampler_order`, `use_default_badwordsids`, `dynatemp_*`,
 * `smoothing_factor` (no common OpenAI-side name), and Kobold's UI formatting flags (`frmt*`, `singleline`).
 */
import { type BackendHttp, createBackendHttp } from './backend-http.js';
import {
  BackendError,
  type GeneratedText,
  type JobContext,
  type TextBackend,
  type TextJob,
} from './types.js';

export interface OpenAiCompletionsBackendOptions {
  /** The server's base URL; `/v1/completions` and `/v1/models` are appended (a trailing `/v1` is tolerated). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /** The model to ask for. @default the first model `/v1/models` lists */
  model?: string;
  /** The model name advertised to the horde. @default `model` */
  hordeModel?: string;
  /** Largest generation in tokens. @default 512 (capped by the context) */
  maxLength?: number;
  /** Largest context in tokens. @default vLLM's `max_model_len` from `/v1/models`, else 2048 */
  maxContextLength?: number;
  /** How long one generation may take. @default 300000 */
  timeoutMs?: number;
  /** For tests and proxies. @default globalThis.fetch */
  fetch?: typeof fetch;
}

export const OPENAI_DEFAULT_MAX_LENGTH = 512;
export const OPENAI_DEFAULT_MAX_CONTEXT_LENGTH = 2048;
/** OpenAI's API rejects more stop sequences than this; most compatible servers copy the limit. */
export const OPENAI_MAX_STOP_SEQUENCES = 4;
const DEFAULT_TIMEOUT_MS = 300_000;
const INFO_TIMEOUT_MS = 15_000;

interface ListedModel {
  id: string;
  /** vLLM (and Aphrodite) tell the context size of each served model. */
  max_model_len?: number;
}

/** Connects to the server at `options.url`, picks the model and learns the limits. */
export async function createOpenAiCompletionsBackend(
  options: OpenAiCompletionsBackendOptions,
): Promise<TextBackend> {
  const http = createBackendHttp({
    // Owners often paste the URL their other tools take, `…/v1`; the paths below add it back.
    base: options.url.replace(/\/+$/, '').replace(/\/v1$/, ''),
    label: 'OpenAI API',
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    fetch: options.fetch,
    defaultTimeoutMs: INFO_TIMEOUT_MS,
    errorMessage: openAiErrorMessage,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const listed = await listModels(http, options.model !== undefined);
  const model = options.model ?? listed[0]?.id;
  if (!model) throw new BackendError('OpenAI API: /v1/models lists no model; set the model in the config');
  const listedContext = listed.find((entry) => entry.id === model)?.max_model_len;
  const maxContextLength = options.maxContextLength ?? listedContext ?? OPENAI_DEFAULT_MAX_CONTEXT_LENGTH;
  const maxLength = options.maxLength ?? Math.min(OPENAI_DEFAULT_MAX_LENGTH, maxContextLength);

  return {
    kind: 'openai-completions',
    maxLength,
    maxContextLength,
    models: async () => [options.hordeModel ?? model],
    generate: (job, context) => complete(http, job, context, { model, maxLength, timeoutMs }),
  };
}

/**
 * The served models. When the owner named the model, a server without `/v1/models` is fine (we only
 * lose vLLM's context size); without a name we cannot guess. Any other failure (a wrong key, a server
 * down) is reported now rather than at the first job.
 */
async function listModels(http: BackendHttp, modelKnown: boolean): Promise<ListedModel[]> {
  try {
    const data = ((await http.get('/v1/models')) as { data?: unknown } | undefined)?.data;
    if (!Array.isArray(data)) return [];
    return data.flatMap((entry): ListedModel[] => {
      const { id, max_model_len } = (entry ?? {}) as { id?: unknown; max_model_len?: unknown };
      if (typeof id !== 'string') return [];
      return [{ id, max_model_len: positiveInteger(max_model_len) }];
    });
  } catch (error) {
    const routeMissing = error instanceof BackendError && [404, 405, 501].includes(error.status ?? 0);
    if (modelKnown && routeMissing) return [];
    throw error;
  }
}

async function complete(
  http: BackendHttp,
  job: TextJob,
  context: JobContext,
  settings: { model: string; maxLength: number; timeoutMs: number },
): Promise<GeneratedText> {
  const request = buildCompletionRequest(job, settings.model, settings.maxLength);
  // Aborting the request closes the connection, which llama.cpp and vLLM take as "stop generating".
  const body = await http.post('/v1/completions', request, {
    signal: context.signal,
    timeoutMs: settings.timeoutMs,
  });
  const choices = (body as { choices?: unknown } | undefined)?.choices;
  const text = Array.isArray(choices) ? (choices[0] as { text?: unknown } | undefined)?.text : undefined;
  if (typeof text !== 'string') throw new BackendError('OpenAI API: the answer has no choices[0].text');
  return request.seed === undefined ? { text } : { text, seed: request.seed };
}

/** The `/v1/completions` body for a horde job (see the table at the top of this file). */
export function buildCompletionRequest(
  job: TextJob,
  model: string,
  maxLength: number,
): Record<string, unknown> & { seed?: number } {
  const params = job.params;
  const request: Record<string, unknown> & { seed?: number } = {
    model,
    prompt: job.prompt,
    max_tokens: Math.min(job.maxLength, maxLength),
  };
  const copy = (from: string, to: string) => {
    const value = finiteNumber(params[from]);
    if (value !== undefined) request[to] = value;
  };
  copy('temperature', 'temperature');
  copy('top_p', 'top_p');
  copy('top_k', 'top_k');
  if (request.top_k === 0) request.top_k = -1;
  copy('rep_pen', 'repetition_penalty');
  copy('min_p', 'min_p');

  const stop = Array.isArray(params.stop_sequence)
    ? params.stop_sequence.filter((entry): entry is string => typeof entry === 'string' && entry !== '')
    : [];
  if (stop.length > 0) request.stop = stop.slice(0, OPENAI_MAX_STOP_SEQUENCES);

  const seed = [params.sampler_seed, params.seed].find((value) => Number.isInteger(value));
  if (typeof seed === 'number') request.seed = seed;
  return request;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

// --- Error answers -------------------------------------------------------------------------------------

/**
 * The message in an error body: OpenAI, llama.cpp, Ollama and newer vLLM send `{error: {message}}`,
 * older vLLM `{object: 'error', message}`, some proxies `{error: '…'}` or FastAPI's `{detail}`.
 */
function openAiErrorMessage(body: unknown, text: string): string {
  const { error, message, detail } = (body ?? {}) as { error?: unknown; message?: unknown; detail?: unknown };
  const nested = (error as { message?: unknown } | undefined)?.message;
  if (typeof nested === 'string') return nested;
  if (typeof error === 'string') return error;
  if (typeof message === 'string') return message;
  if (typeof detail === 'string') return detail;
  return text.trim().slice(0, 200) || 'no message';
}
