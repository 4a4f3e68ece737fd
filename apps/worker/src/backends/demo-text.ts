/**
 * The demo text backend: no model. It strings words from a small fixed vocabulary, picked by a PRNG seeded
 * from the prompt and seed, behind a marker saying it is not a language model, so a text worker can run
 * end to end anywhere. The same prompt, seed and `max_length` always give the same text.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BackendError,
  type GeneratedText,
  type JobContext,
  type TextBackend,
  type TextJob,
} from './types.js';

export const DEMO_TEXT_MODEL = 'Demo Text (not AI)';
export const DEMO_TEXT_MARKER = '[hordekit demo text — not a language model]';

export interface DemoTextBackendOptions {
  /** Simulated time per word, to watch progress in the display. @default 0 (no waiting) */
  tokenDelayMs?: number;
  /** The model name advertised to the horde. @default DEMO_TEXT_MODEL */
  model?: string;
  /** @default 512 */
  maxLength?: number;
  /** @default 4096 */
  maxContextLength?: number;
}

/** The horde counts text as characters / 4 tokens; the demo writes until it reaches `max_length` of them. */
const CHARS_PER_TOKEN = 4;

const VOCABULARY = [
  'the',
  'a',
  'quiet',
  'river',
  'lantern',
  'mountain',
  'horde',
  'worker',
  'carries',
  'paints',
  'finds',
  'under',
  'over',
  'beside',
  'every',
  'small',
  'bright',
  'old',
  'kudos',
  'wind',
  'stone',
  'garden',
  'signal',
  'queue',
  'dream',
  'and',
  'slowly',
  'again',
  'morning',
  'evening',
  'light',
  'shadow',
  'road',
  'song',
  'map',
  'cloud',
  'harbour',
  'ember',
  'patient',
  'distant',
  'whispers',
  'returns',
  'waits',
  'with',
  'beyond',
  'through',
  'gentle',
  'copper',
  'silver',
  'field',
] as const;

export function createDemoTextBackend(options: DemoTextBackendOptions = {}): TextBackend {
  const model = options.model ?? DEMO_TEXT_MODEL;
  const maxLength = options.maxLength ?? 512;
  const maxContextLength = options.maxContextLength ?? 4096;
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  return {
    kind: 'demo',
    maxLength,
    maxContextLength,
    models: async () => [model],
    generate: (job, context) => writeText(job, context, Math.min(job.maxLength, maxLength), tokenDelayMs),
  };
}

async function writeText(
  job: TextJob,
  context: JobContext,
  maxLength: number,
  tokenDelayMs: number,
): Promise<GeneratedText> {
  const seed = seedOf(job.params);
  const words = demoWords(job.prompt, seed, maxLength);
  let text = DEMO_TEXT_MARKER;
  for (const word of words) {
    if (context.signal.aborted) throw new BackendError('demo: generation aborted');
    if (tokenDelayMs > 0) {
      await waitToken(tokenDelayMs, context.signal);
      context.progress(Math.min(1, (text.length + word.length) / CHARS_PER_TOKEN / maxLength));
    }
    text += word;
  }
  context.progress(1);
  return { text, seed };
}

/**
 * The words after the marker, each with its leading space and sentence punctuation, until the text is
 * about `maxLength` tokens long by the horde's estimate (characters / 4).
 */
export function demoWords(prompt: string, seed: number, maxLength: number): string[] {
  const random = createRandom(prompt, seed);
  const budget = maxLength * CHARS_PER_TOKEN - DEMO_TEXT_MARKER.length;
  const words: string[] = [];
  let length = 0;
  let sentenceLeft = 0;
  while (true) {
    const startsSentence = sentenceLeft === 0;
    if (startsSentence) sentenceLeft = 5 + Math.floor(random() * 10);
    let word = VOCABULARY[Math.floor(random() * VOCABULARY.length)]!;
    if (startsSentence) word = word[0]!.toUpperCase() + word.slice(1);
    sentenceLeft -= 1;
    if (sentenceLeft === 0) word += '.';
    if (length + word.length + 1 > budget) break;
    words.push(` ${word}`);
    length += word.length + 1;
  }
  return words;
}

/** Text jobs rarely carry a seed; Kobold's `sampler_seed` or a `seed` is used when one is there. */
function seedOf(params: Record<string, unknown>): number {
  const seed = [params.sampler_seed, params.seed].find((value) => Number.isInteger(value));
  return typeof seed === 'number' ? seed : 0;
}

async function waitToken(delayMs: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(delayMs, undefined, { signal });
  } catch {
    throw new BackendError('demo: generation aborted');
  }
}

/** mulberry32 seeded from SHA-256 of prompt and seed (the same generator as the demo image backend). */
function createRandom(prompt: string, seed: number): () => number {
  let state = createHash('sha256').update(`${seed}\n${prompt}`).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
