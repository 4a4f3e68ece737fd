/**
 * The command line of `npm run draw`: parsed with node:util `parseArgs`, checked with zod, turned into
 * `DrawOptions`. Environment variables (`HORDE_URL`, `HORDE_API_KEY`) are read by the caller and passed in.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const DEFAULT_HORDE = 'http://127.0.0.1:7001';
export const ANONYMOUS_KEY = '0000000000';

export interface DrawOptions {
  prompt: string;
  /** Sent after ` ### ` in the prompt. */
  negative?: string;
  /** Models to accept; empty means any model the horde serves. @default [] */
  models: string[];
  /** @default 512 */
  width: number;
  /** @default 512 */
  height: number;
  /** @default 30 */
  steps: number;
  /** Left to the horde (5.0 upstream) when absent. */
  cfg?: number;
  /** Left to the horde (`k_euler_a`) when absent; the horde checks the name. */
  sampler?: string;
  /** Random per image when absent. */
  seed?: string;
  /** Images to make, 1–20. @default 1 */
  count: number;
  /** Allow NSFW workers and results. @default false */
  nsfw: boolean;
  /** The file to write; with several images `-1`, `-2` … go before the extension. @default `<slug of the prompt>.webp` */
  out?: string;
  /** Give up (and cancel the request) after this many seconds. @default 600 */
  timeoutSeconds: number;
  /** The horde's API root, always ending in `/api/v2`. @default `http://127.0.0.1:7001/api/v2` */
  api: string;
  /** @default '0000000000' (anonymous) */
  apiKey: string;
}

export type ParsedCommand = { kind: 'help' } | { kind: 'draw'; options: DrawOptions };

/** Bad usage: the message is printed with a pointer to `--help`, and the process exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: npm run draw -- "<prompt>" [options]

Sends an image request to an AI Horde, waits in its queue and saves the images (WebP).

Options:
  --negative TEXT     what the image should not show
  --model NAME        a model to use; repeat for several (default: any model the horde serves)
  --width N           width in pixels, a multiple of 64 (default 512)
  --height N          height in pixels, a multiple of 64 (default 512)
  --steps N           sampling steps, 1–500 (default 30)
  --cfg N             guidance scale, 0–100 (default: the horde's)
  --sampler NAME      a horde sampler: k_euler_a, k_dpmpp_2m, DDIM … (default: the horde's)
  --seed TEXT         the seed (default: random)
  -n, --count N       how many images, 1–20 (default 1)
  --nsfw              allow NSFW workers and results
  --out FILE          where to save (several images: name-1.webp, name-2.webp …)
                      (default: ./<prompt as a slug>.webp)
  --timeout SECONDS   cancel the request after this long (default 600)
  --horde URL         the horde (default $HORDE_URL or ${DEFAULT_HORDE})
  --key KEY           your API key (default $HORDE_API_KEY or the anonymous ${ANONYMOUS_KEY})
  -h, --help          show this help

Example:
  npm run draw -- "a lighthouse at dusk" --negative "blurry" --out lighthouse.webp`;

/**
 * The horde's API root from what a user types: `http://host:7001`, `…/api`, `…/api/v2`, with or without a
 * trailing slash, all give `http://host:7001/api/v2`.
 */
export function apiRoot(base: string, source = '--horde'): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`${source}: "${base}" is not a URL (for example ${DEFAULT_HORDE})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source}: "${base}" must start with http:// or https://`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api(\/v2)?$/, '');
  return `${url.origin}${path}/api/v2`;
}

const integer = (label: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${label} must be a number` })
    .int({ error: `${label} must be a whole number` })
    .min(min, { error: `${label} must be at least ${min}` })
    .max(max, { error: `${label} must be at most ${max}` });

const side = (label: string) =>
  integer(label, 64, 3072).refine((value) => value % 64 === 0, {
    error: `${label} must be a multiple of 64 (for example 512, 576, 768, 1024)`,
  });

/** Values as parseArgs gives them (strings), checked and converted. */
const drawSchema = z.object({
  prompt: z.string().trim().min(1, { error: 'the prompt is empty' }),
  negative: z.string().trim().min(1).optional(),
  models: z.array(z.string().trim().min(1, { error: '--model must not be empty' })),
  width: side('--width'),
  height: side('--height'),
  steps: integer('--steps', 1, 500),
  cfg: z.coerce
    .number({ error: '--cfg must be a number' })
    .min(0, { error: '--cfg must be between 0 and 100' })
    .max(100, { error: '--cfg must be between 0 and 100' })
    .refine((value) => Math.round(value * 100) === value * 100, { error: '--cfg takes at most two decimals' })
    .optional(),
  // Which samplers exist is the horde's to say: it answers an unknown one with a validation error.
  sampler: z.string().min(1, { error: '--sampler must not be empty' }).optional(),
  seed: z.string().min(1).max(256).optional(),
  count: integer('--count', 1, 20),
  nsfw: z.boolean(),
  out: z.string().min(1, { error: '--out must not be empty' }).optional(),
  timeoutSeconds: z.coerce
    .number({ error: '--timeout must be a number of seconds' })
    .positive({ error: '--timeout must be more than 0 seconds' }),
  api: z.string(),
  apiKey: z.string().min(1, { error: '--key must not be empty' }),
});

export interface DrawEnvironment {
  HORDE_URL?: string;
  HORDE_API_KEY?: string;
}

/** Parses `argv` (without `node` and the script). Throws `UsageError` with a sentence for the user. */
export function parseDrawArgs(argv: string[], env: DrawEnvironment = {}): ParsedCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (positionals.length === 0)
    throw new UsageError('say what to draw: npm run draw -- "a lighthouse at dusk"');

  const result = drawSchema.safeParse({
    prompt: positionals.join(' '),
    negative: values.negative,
    models: values.model ?? [],
    width: values.width ?? 512,
    height: values.height ?? 512,
    steps: values.steps ?? 30,
    cfg: values.cfg,
    sampler: values.sampler,
    seed: values.seed,
    count: values.count ?? 1,
    nsfw: values.nsfw ?? false,
    out: values.out,
    timeoutSeconds: values.timeout ?? 600,
    api: values.horde ? apiRoot(values.horde) : apiRoot(env.HORDE_URL || DEFAULT_HORDE, 'HORDE_URL'),
    apiKey: values.key ?? (env.HORDE_API_KEY || ANONYMOUS_KEY),
  });
  if (!result.success) {
    throw new UsageError(result.error.issues.map((issue) => issue.message).join('; '));
  }
  // Absent optionals come back as `undefined` keys; drop them so what is left is what the user chose.
  const chosen = Object.entries(result.data).filter(([, value]) => value !== undefined);
  return { kind: 'draw', options: Object.fromEntries(chosen) as unknown as DrawOptions };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      negative: { type: 'string' },
      model: { type: 'string', multiple: true },
      width: { type: 'string' },
      height: { type: 'string' },
      steps: { type: 'string' },
      cfg: { type: 'string' },
      sampler: { type: 'string' },
      seed: { type: 'string' },
      count: { type: 'string', short: 'n' },
      nsfw: { type: 'boolean' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      horde: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
