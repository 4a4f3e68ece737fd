/**
 * The worker's configuration: a YAML or JSON file (`--config worker.yaml` or `WORKER_CONFIG`), with the
 * environment on top (`HORDE_URL`, `HORDE_API_KEY`, `WORKER_NAME`, `IMAGE_BACKEND`, `TEXT_BACKEND`, …).
 * Keys are snake_case like reGen's bridgeData.yaml. One process runs an image worker, a text worker, or
 * both; with no backend configured at all it runs the demo image backend.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const flag = z.union([
  z.boolean(),
  z.union([z.literal(0), z.literal(1)]).transform((value) => value === 1),
  z
    .string()
    .trim()
    .toLowerCase()
    .transform((value) => ['1', 'true', 'yes', 'on'].includes(value)),
]);
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const words = z.union([z.array(z.string()), z.string().transform((value) => splitList(value))]);

const common = {
  /** The worker's name; defaults to the top-level `worker_name` (text: with ` (text)` appended). */
  name: z.string().trim().min(1).max(100).optional(),
  /** The backend's URL (default: its usual local port) and, for OpenAI-compatible APIs, its key. */
  url: z.url().optional(),
  api_key: z.string().optional(),
  threads: count(1, 32).default(1),
  /** Jobs of one request per pop (reGen's `max_batch`). */
  amount: count(1, 20).default(1),
  /** Take requests that allow NSFW output (the horde's default for both requests and workers). */
  nsfw: flag.default(true),
  blacklist: words.default([]),
  require_upfront_kudos: flag.default(false),
  extra_slow_worker: flag.default(false),
  priority_usernames: words.default([]),
  /** Horde model name → the backend's name for it; or a list of the backend's models to serve. */
  models: z.union([z.record(z.string(), z.string()), words]).optional(),
};

export const ImageBackendConfigSchema = z.object({
  backend: z.enum(['a1111', 'comfyui', 'openai-images', 'demo']),
  ...common,
  max_pixels: z.coerce
    .number()
    .int()
    .min(64 * 64)
    .optional(),
  /** reGen's unit: max_pixels = max_power × 8 × 64 × 64. */
  max_power: z.coerce.number().int().min(1).max(2304).optional(),
  allow_img2img: flag.default(true),
  allow_painting: flag.default(true),
  allow_post_processing: flag.default(true),
  allow_lora: flag.default(true),
  allow_unsafe_ipaddr: flag.default(true),
  limit_max_steps: flag.default(false),
  /** openai-images: the backend's model id; `sizes` it accepts (`1024x1024`, …). */
  model: z.string().optional(),
  sizes: words.optional(),
  /** comfyui: a workflow file in API format with `{{prompt}}`-style placeholders. */
  workflow: z.string().optional(),
  /** demo: delay per step, to see progress. */
  step_delay_ms: count(0, 10_000).optional(),
});
export type ImageBackendConfig = z.output<typeof ImageBackendConfigSchema>;

export const TextBackendConfigSchema = z.object({
  backend: z.enum(['koboldcpp', 'openai-completions', 'demo']),
  ...common,
  /** openai-completions: the backend's model id (default: its first). */
  model: z.string().optional(),
  /** The model name advertised to the horde (default: what the backend reports). */
  horde_model: z.string().optional(),
  max_length: count(1, 1_048_576).optional(),
  max_context_length: count(1, 1_048_576).optional(),
  token_delay_ms: count(0, 10_000).optional(),
});
export type TextBackendConfig = z.output<typeof TextBackendConfigSchema>;

const API_KEY_HINT = 'set HORDE_API_KEY (or api_key in the config file) to your API key on that horde';
const WORKER_NAME_HINT =
  "set WORKER_NAME (or worker_name in the config file) to this worker's name on the horde";

export const WorkerConfigSchema = z
  .object({
    horde_url: z.url().default('http://127.0.0.1:7001'),
    api_key: z.string({ error: API_KEY_HINT }).min(1, API_KEY_HINT),
    worker_name: z.string({ error: WORKER_NAME_HINT }).trim().min(1, WORKER_NAME_HINT).max(100),
    image: ImageBackendConfigSchema.optional(),
    text: TextBackendConfigSchema.optional(),
  })
  .refine((config) => config.image || config.text, { message: 'configure an image or a text backend' });
export type WorkerConfig = z.output<typeof WorkerConfigSchema>;

/** Environment variables and the config key each sets. */
const ENV_KEYS: readonly [env: string, path: string][] = [
  ['HORDE_URL', 'horde_url'],
  ['HORDE_API_KEY', 'api_key'],
  ['WORKER_NAME', 'worker_name'],
  ['IMAGE_BACKEND', 'image.backend'],
  ['IMAGE_BACKEND_URL', 'image.url'],
  ['IMAGE_BACKEND_API_KEY', 'image.api_key'],
  ['IMAGE_MODELS', 'image.models'],
  ['IMAGE_THREADS', 'image.threads'],
  ['IMAGE_MAX_PIXELS', 'image.max_pixels'],
  ['TEXT_BACKEND', 'text.backend'],
  ['TEXT_BACKEND_URL', 'text.url'],
  ['TEXT_BACKEND_API_KEY', 'text.api_key'],
  ['TEXT_MODEL', 'text.model'],
  ['TEXT_THREADS', 'text.threads'],
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the file (if any), applies the environment, validates; throws `ConfigError` with every problem. */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): WorkerConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.WORKER_CONFIG;
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [name, path] of ENV_KEYS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  if (!raw.image && !raw.text) raw.image = { backend: 'demo' };
  const parsed = WorkerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid worker configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text); // YAML is a superset of JSON: one parser for both.
  } catch (error) {
    throw new ConfigError(
      `${file} is not valid YAML or JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${file} must hold a mapping`);
  return value as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string, value: string): void {
  const [head, tail] = path.split('.') as [string, string | undefined];
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const section = target[head];
  const object = typeof section === 'object' && section !== null ? (section as Record<string, unknown>) : {};
  object[tail] = value;
  target[head] = object;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}
