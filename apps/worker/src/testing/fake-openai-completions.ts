/**
 * A fake OpenAI-compatible completions server on loopback (what llama.cpp, vLLM and Ollama offer):
 * `/v1/models` and `/v1/completions`, with a Bearer check when `apiKey` is set and OpenAI's error shape
 * `{error: {message, type, code}}` for bad input. The completion is deterministic (` [reply to N chars]`).
 */
import type { FakeReply, RecordedCall } from './http-fake.js';
import { type HttpFake, startHttpFake } from './http-fake.js';

export interface FakeOpenAiCompletionsOptions {
  /** Served model ids, listed by `/v1/models` in this order. @default ['fake-llm-7b'] */
  models?: string[];
  /** When set, listed as each model's `max_model_len` (as vLLM does). */
  maxModelLength?: number;
  /** When set, every request needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Time before a completion answers. @default 0 */
  delayMs?: number;
  /** The full completion for a prompt (cut to `max_tokens` × 4 characters). */
  reply?: (prompt: string, body: Record<string, unknown>) => string;
}

export interface FakeOpenAiCompletions extends HttpFake {
  /** Bodies of `/v1/completions` calls, in order. */
  readonly completionBodies: Record<string, unknown>[];
}

const CHARS_PER_TOKEN = 4;
/** OpenAI's own limit, which the fake enforces so a test sees the backend respect it. */
const MAX_STOP_SEQUENCES = 4;

export async function startFakeOpenAiCompletions(
  options: FakeOpenAiCompletionsOptions = {},
): Promise<FakeOpenAiCompletions> {
  const models = options.models ?? ['fake-llm-7b'];
  const reply = options.reply ?? ((prompt: string) => ` [reply to ${prompt.length} chars]`);
  const completionBodies: Record<string, unknown>[] = [];
  let created = 0;

  const unauthorised = (call: RecordedCall): FakeReply | undefined => {
    if (options.apiKey === undefined || call.headers.authorization === `Bearer ${options.apiKey}`)
      return undefined;
    return openAiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
  };

  const listModels = (call: RecordedCall): FakeReply =>
    unauthorised(call) ?? {
      body: {
        object: 'list',
        data: models.map((id) => ({
          id,
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'fake',
          ...(options.maxModelLength === undefined ? {} : { max_model_len: options.maxModelLength }),
        })),
      },
    };

  const complete = async (call: RecordedCall): Promise<FakeReply> => {
    const denied = unauthorised(call);
    if (denied) return denied;
    const body = (call.body ?? {}) as Record<string, unknown>;
    completionBodies.push(body);
    const problem = validate(body, models);
    if (problem) return problem;
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));

    const prompt = body.prompt as string;
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 16;
    const full = reply(prompt, body);
    const text = full.slice(0, maxTokens * CHARS_PER_TOKEN);
    const promptTokens = Math.ceil(prompt.length / CHARS_PER_TOKEN);
    const completionTokens = Math.ceil(text.length / CHARS_PER_TOKEN);
    created += 1;
    return {
      body: {
        id: `cmpl-fake-${created}`,
        object: 'text_completion',
        created: 1_700_000_000 + created,
        model: body.model,
        choices: [
          { text, index: 0, logprobs: null, finish_reason: text.length < full.length ? 'length' : 'stop' },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      },
    };
  };

  const fake = await startHttpFake({ 'GET /v1/models': listModels, 'POST /v1/completions': complete });
  return Object.assign(fake, { completionBodies });
}

/** The checks OpenAI makes that a worker could get wrong. */
function validate(body: Record<string, unknown>, models: string[]): FakeReply | undefined {
  if (typeof body.prompt !== 'string') {
    return openAiError(400, "'prompt' is a required property", 'invalid_request_error', null);
  }
  if (typeof body.model !== 'string' || !models.includes(body.model)) {
    return openAiError(
      404,
      `The model \`${String(body.model)}\` does not exist`,
      'invalid_request_error',
      'model_not_found',
    );
  }
  if (
    body.max_tokens !== undefined &&
    (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)
  ) {
    return openAiError(400, "'max_tokens' must be a positive integer", 'invalid_request_error', null);
  }
  if (Array.isArray(body.stop) && body.stop.length > MAX_STOP_SEQUENCES) {
    return openAiError(
      400,
      `'stop' must have at most ${MAX_STOP_SEQUENCES} items`,
      'invalid_request_error',
      null,
    );
  }
  return undefined;
}

function openAiError(status: number, message: string, type: string, code: string | null): FakeReply {
  return { status, body: { error: { message, type, param: null, code } } };
}
