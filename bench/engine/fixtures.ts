/**
 * What every engine scenario builds on: a file-backed SQLite horde (WAL, `synchronous=NORMAL`, as
 * `createSqliteStore` opens it) in a temp directory, accounts with API keys, and request and pop bodies as
 * a real client and a reGen worker send them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHorde, type Horde } from '@hordekit/core';
import { createSqliteStore, type SqliteStoreOptions } from '@hordekit/core/sqlite';

export const REGEN = 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen';
export const MODELS = Array.from({ length: 50 }, (_, i) => `bench-model-${String(i).padStart(2, '0')}`);
/** A 51st model no request names. */
export const UNREQUESTED_MODEL = 'bench-model-50';
export const PROMPT_LENGTH = 200;

/**
 * Requesters may keep any number of jobs waiting (the 100,000-request queue comes from a few accounts);
 * everything else is the default horde. 512×512 at 30 steps fits the free tier, so no kudos are needed.
 */
export const BENCH_CONFIG = { accounts: { defaultConcurrency: 1_000_000 } };

export function tempDatabase(label: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `hordekit-bench-${label}-`));
  return { path: join(dir, 'horde.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The store with its defaults, unless a scenario passes options (`bench:engine` compares one). */
export async function openHorde(
  path: string,
  options: Omit<SqliteStoreOptions, 'path'> = {},
): Promise<Horde> {
  return createHorde({ store: await createSqliteStore({ ...options, path }), config: BENCH_CONFIG });
}

export async function registerMany(horde: Horde, prefix: string, count: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++)
    keys.push((await horde.registerAccount({ username: `${prefix}${i}` })).apiKey);
  return keys;
}

const WORDS = ['lighthouse', 'at', 'dusk', 'oil', 'painting', 'of', 'a', 'misty', 'harbour', 'with', 'boats'];

/** A distinct prompt of exactly `PROMPT_LENGTH` characters. */
export function prompt(i: number): string {
  let text = `#${i}`;
  for (let w = i; text.length < PROMPT_LENGTH; w = (w * 7 + 3) % 1009) text += ` ${WORDS[w % WORDS.length]}`;
  return text.slice(0, PROMPT_LENGTH);
}

/**
 * The body a client posts to `/generate/async`: one 512×512 image, 30 steps, one model. Parsed from JSON
 * text, as a server hands it to the engine (so strings and objects are laid out as in production).
 */
export function imageRequest(i: number, model: string): unknown {
  return JSON.parse(
    JSON.stringify({
      prompt: prompt(i),
      models: [model],
      params: { width: 512, height: 512, steps: 30, sampler_name: 'k_euler_a', cfg_scale: 7, n: 1 },
      nsfw: false,
      r2: true,
    }),
  );
}

/** The body a reGen worker posts to `/generate/pop`. */
export function imagePop(name: string, models: string[], extra: Record<string, unknown> = {}) {
  return {
    name,
    models,
    bridge_agent: REGEN,
    max_pixels: 1024 * 1024,
    threads: 1,
    amount: 1,
    nsfw: false,
    allow_img2img: true,
    allow_painting: true,
    allow_post_processing: true,
    allow_lora: false,
    ...extra,
  };
}
