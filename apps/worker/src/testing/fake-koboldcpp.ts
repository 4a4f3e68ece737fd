/**
 * A fake koboldcpp on loopback: the KoboldAI API routes the worker uses, answering as koboldcpp does.
 * Generation is deterministic (` [reply to N chars]` by default) and, with `tokenDelayMs`, slow enough
 * to watch through `/api/extra/generate/check` and to stop with `/api/extra/abort`. With
 * `flavour: 'koboldai'` it behaves like KoboldAI United: no `/api/extra` routes at all.
 */
import { type HttpFake, type RecordedCall, startHttpFake } from './http-fake.js';

export interface FakeKoboldCppOptions {
  /** `/api/v1/model` answer. @default 'koboldcpp/FakeLlama-7B' */
  model?: string;
  /** `/api/v1/config/max_length` (koboldcpp: the horde generation length). @default 512 */
  maxLength?: number;
  /** `/api/extra/true_max_context_length`: the loaded context size. @default 4096 */
  trueMaxContextLength?: number;
  /** `/api/v1/config/max_context_length` (koboldcpp: the horde context cap). @default 2048 */
  maxContextLength?: number;
  /** Time per 4-character "token"; 0 answers at once. @default 0 */
  tokenDelayMs?: number;
  /** The full continuation for a prompt (cut to `max_length` × 4 characters). */
  reply?: (prompt: string, body: Record<string, unknown>) => string;
  /** `'koboldai'` drops the koboldcpp-only `/api/extra` routes. @default 'koboldcpp' */
  flavour?: 'koboldcpp' | 'koboldai';
}

export interface FakeKoboldCpp extends HttpFake {
  /** Bodies of `/api/v1/generate` calls, in order. */
  readonly generateBodies: Record<string, unknown>[];
}

const CHARS_PER_TOKEN = 4;

interface RunningGeneration {
  genkey: string;
  text: string;
  aborted: boolean;
}

export async function startFakeKoboldCpp(options: FakeKoboldCppOptions = {}): Promise<FakeKoboldCpp> {
  const model = options.model ?? 'koboldcpp/FakeLlama-7B';
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const reply = options.reply ?? ((prompt: string) => ` [reply to ${prompt.length} chars]`);
  const generateBodies: Record<string, unknown>[] = [];
  // koboldcpp generates one request at a time; others get 503 "busy".
  let running: RunningGeneration | undefined;

  const generate = async (call: RecordedCall) => {
    const body = (call.body ?? {}) as Record<string, unknown>;
    generateBodies.push(body);
    if (typeof body.prompt !== 'string') {
      return { status: 422, body: { detail: { prompt: ['Missing data for required field.'] } } };
    }
    if (running) {
      return {
        status: 503,
        body: { detail: { msg: 'Server is busy; please try again later.', type: 'service_unavailable' } },
      };
    }
    const maxLength = typeof body.max_length === 'number' ? body.max_length : 100;
    const full = reply(body.prompt, body).slice(0, maxLength * CHARS_PER_TOKEN);
    const generation: RunningGeneration = {
      genkey: typeof body.genkey === 'string' ? body.genkey : '',
      text: '',
      aborted: false,
    };
    running = generation;
    try {
      for (let at = 0; at < full.length && !generation.aborted; at += CHARS_PER_TOKEN) {
        if (tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, tokenDelayMs));
        generation.text = full.slice(0, at + CHARS_PER_TOKEN);
      }
    } finally {
      running = undefined;
    }
    // Like koboldcpp, an aborted generation answers with the text made so far.
    return {
      body: { results: [{ text: generation.text, finish_reason: generation.aborted ? 'abort' : 'length' }] },
    };
  };

  /** The text so far, for a matching genkey (or any caller when the generation has none). */
  const check = (genkey: unknown) => {
    const text = running && (running.genkey === '' || running.genkey === genkey) ? running.text : '';
    return { body: { results: [{ text }] } };
  };

  const abort = (call: RecordedCall) => {
    const genkey = (call.body as { genkey?: unknown } | undefined)?.genkey ?? '';
    const matches = running !== undefined && (genkey === '' || genkey === running.genkey);
    if (matches && running) running.aborted = true;
    return { body: { success: matches ? 'true' : 'false', done: 'true' } };
  };

  const koboldRoutes = {
    'GET /api/v1/model': () => ({ body: { result: model } }),
    'GET /api/v1/info/version': () => ({ body: { result: '1.2.5' } }),
    'GET /api/v1/config/max_length': () => ({ body: { value: options.maxLength ?? 512 } }),
    'GET /api/v1/config/max_context_length': () => ({ body: { value: options.maxContextLength ?? 2048 } }),
    'POST /api/v1/generate': generate,
  };
  const extraRoutes = {
    'GET /api/extra/version': () => ({ body: { result: 'KoboldCpp', version: '1.80.3' } }),
    'GET /api/extra/true_max_context_length': () => ({
      body: { value: options.trueMaxContextLength ?? 4096 },
    }),
    'GET /api/extra/generate/check': () => check(''),
    'POST /api/extra/generate/check': (call: RecordedCall) =>
      check((call.body as { genkey?: unknown } | undefined)?.genkey),
    'POST /api/extra/abort': abort,
  };
  const fake = await startHttpFake(
    options.flavour === 'koboldai' ? koboldRoutes : { ...koboldRoutes, ...extraRoutes },
  );
  return Object.assign(fake, { generateBodies });
}
