/**
 * The whole `draw` flow against any AI Horde v2: queue the request, check on it at most once a second
 * (the public horde allows 10 checks/s but only 10 status calls/min per request), fetch the results once,
 * save each image. Cancels the request on abort (Ctrl-C) and on timeout.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import type { DrawOptions } from './args.js';
import {
  type CheckAnswer,
  createHordeClient,
  type Generation,
  HordeApiError,
  type HordeClient,
  HordeConnectionError,
} from './client.js';
import { createProgress, type DrawOutput, formatSeconds, type ProgressDisplay } from './progress.js';
import { outputPaths, webpSize } from './save.js';

export interface DrawIo {
  /** Progress and results go here; live progress only when `stdout.isTTY`. */
  stdout: DrawOutput;
  /** Aborting cancels the request on the horde (`DELETE /generate/status/{id}`); `draw` then fails with 130. */
  signal?: AbortSignal;
  /** Relative `--out` paths and the default file names are resolved here. @default process.cwd() */
  cwd?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time between two checks. Keep it at 1 s or more against a public horde. @default 1000 */
  pollIntervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Why `draw` stopped without images: a sentence for the user and the exit code (1 failed, 130 cancelled). */
export class DrawError extends Error {
  override readonly name = 'DrawError';
  constructor(
    message: string,
    readonly exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What `is_possible: false` means for the user. */
export const NO_WORKER = 'no worker currently serves this request (model/size)';
export const NO_WORKER_EXPLANATION =
  `${NO_WORKER}: it waits in case one comes online; ` +
  'try another --model, a smaller --width/--height or fewer --steps';

const CANCELLED = 'cancelled (the request was withdrawn from the horde)';

function version(): string {
  try {
    const url = new URL('../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const CLIENT_AGENT = `hordekit-draw:${version()}:https://github.com/hordekit`;

/** The `POST /generate/async` body for `options` (results as download URLs: `r2: true`). */
export function requestBody(options: DrawOptions) {
  const params: Record<string, unknown> = {
    width: options.width,
    height: options.height,
    steps: options.steps,
    n: options.count,
  };
  if (options.cfg !== undefined) params.cfg_scale = options.cfg;
  if (options.sampler !== undefined) params.sampler_name = options.sampler;
  if (options.seed !== undefined) params.seed = options.seed;
  return {
    prompt: options.negative ? `${options.prompt} ### ${options.negative}` : options.prompt,
    params,
    models: options.models,
    nsfw: options.nsfw,
    r2: true,
  };
}

/** Runs the whole flow; resolves with the absolute paths of the saved images, or rejects with a `DrawError`. */
export async function draw(options: DrawOptions, io: DrawIo): Promise<string[]> {
  const now = io.now ?? Date.now;
  const cwd = io.cwd ?? process.cwd();
  const client = createHordeClient({
    api: options.api,
    apiKey: options.apiKey,
    clientAgent: CLIENT_AGENT,
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  const progress = createProgress(io.stdout);
  const started = now();

  const queued = await client.generateAsync(requestBody(options)).catch((error: unknown) => {
    throw explain(error);
  });
  const id = queued.id;
  progress.line(`request ${id} queued on ${options.api} (${queued.kudos} kudos per image)`);
  let possible = true;
  for (const warning of queued.warnings) {
    if (warning.code === 'NoAvailableWorker') possible = false;
    progress.line(
      warning.code === 'NoAvailableWorker'
        ? `warning: ${NO_WORKER_EXPLANATION}`
        : `warning: ${warning.message ?? warning.code}`,
    );
  }

  try {
    await waitUntilDone(client, id, options, io, progress, { started, possible });
    progress.stop();
    const status = await client.status(id);
    const paths = await saveAll(client, status.generations, options, cwd, progress);
    progress.line(`done in ${formatSeconds(now() - started)}, ${status.kudos} kudos`);
    return paths;
  } catch (error) {
    progress.stop();
    throw error instanceof DrawError ? error : explain(error);
  }
}

async function waitUntilDone(
  client: HordeClient,
  id: string,
  options: DrawOptions,
  io: DrawIo,
  progress: ProgressDisplay,
  { started, possible: possibleAtStart }: { started: number; possible: boolean },
): Promise<void> {
  const now = io.now ?? Date.now;
  const deadline = started + options.timeoutSeconds * 1000;
  let interval = io.pollIntervalMs ?? 1000;
  let restarted = 0;
  let possible = possibleAtStart;
  let failures = 0;
  for (;;) {
    if (io.signal?.aborted) throw await cancelled(client, id, progress, CANCELLED, 130);
    let check: CheckAnswer | undefined;
    try {
      check = await client.check(id);
      failures = 0;
    } catch (error) {
      if (error instanceof HordeApiError && error.status === 404) {
        throw new DrawError(`the horde no longer knows request ${id} (it expired or was deleted)`, 1);
      }
      // A rate limit or a hiccup: slow down and try again, a few times.
      failures += 1;
      if (failures >= 5) throw await cancelled(client, id, progress, explain(error).message, 1);
      if (error instanceof HordeApiError && error.status === 429) interval = Math.min(interval * 2, 10_000);
    }
    if (check?.faulted) {
      const restarts = check.restarted ? ` (${check.restarted} restarts)` : '';
      throw new DrawError(
        `the request faulted: the workers that took it failed${restarts}; try another model or a smaller request`,
        1,
      );
    }
    if (check?.done) return;
    if (check) {
      if (check.restarted > restarted) {
        progress.line(
          `warning: a worker gave up on a job; it is back in the queue (restarted ${check.restarted})`,
        );
        restarted = check.restarted;
      }
      if (check.is_possible !== possible) {
        possible = check.is_possible;
        progress.line(possible ? 'a worker can serve the request now' : `warning: ${NO_WORKER_EXPLANATION}`);
      }
      progress.state(check, options.count, now() - started);
    }
    const left = deadline - now();
    if (left <= 0) {
      const hint = possible ? '' : `: ${NO_WORKER}`;
      const message = `gave up after ${options.timeoutSeconds} s without the images${hint}`;
      throw await cancelled(client, id, progress, message, 1);
    }
    await sleep(Math.min(interval, left), io.signal);
  }
}

/** Cancels the request on the horde and returns the error to throw. */
async function cancelled(
  client: HordeClient,
  id: string,
  progress: ProgressDisplay,
  message: string,
  exitCode: number,
): Promise<DrawError> {
  progress.stop();
  try {
    await client.cancel(id);
    progress.line(`cancelled request ${id} on the horde`);
  } catch (error) {
    progress.line(
      `could not cancel request ${id}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return new DrawError(message, exitCode);
}

async function saveAll(
  client: HordeClient,
  generations: Generation[],
  options: DrawOptions,
  cwd: string,
  progress: ProgressDisplay,
): Promise<string[]> {
  const paths = outputPaths({ ...options, count: Math.max(options.count, generations.length) }, cwd);
  const saved: string[] = [];
  for (const [index, generation] of generations.entries()) {
    const path = paths[index]!;
    const bytes = await imageBytes(client, generation.img, options.api);
    if (!bytes) {
      progress.line(`warning: the horde has no image for generation ${index + 1}`);
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    saved.push(path);
    const size = webpSize(bytes) ?? { width: options.width, height: options.height };
    const details = [
      `${size.width}×${size.height}`,
      `seed ${generation.seed || '?'}`,
      `model ${generation.model ?? '?'}`,
      `worker ${generation.worker_name ?? '?'}`,
      ...(generation.censored ? ['censored'] : []),
    ];
    progress.line(`saved ${relative(cwd, path) || path} (${details.join(', ')})`);
  }
  if (saved.length === 0) throw new DrawError('the horde finished the request but returned no images', 1);
  return saved;
}

/** An image from a status: a URL (absolute, or relative to the horde) to download, or base64 WebP. */
async function imageBytes(client: HordeClient, img: string, api: string): Promise<Buffer | undefined> {
  if (!img || img === 'N/A') return undefined;
  if (/^https?:\/\//.test(img) || img.startsWith('/')) return client.download(new URL(img, api).toString());
  const bytes = Buffer.from(img, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

/** A horde or network failure as a sentence for the user. */
function explain(error: unknown): DrawError {
  if (error instanceof HordeApiError) {
    const hint = error.rc === 'NoValidWorkers' ? ` (${NO_WORKER})` : '';
    const what = error.call.startsWith('POST /generate/async')
      ? 'horde refused the request'
      : `${error.call} failed`;
    return new DrawError(`${what} (${error.rc}): ${error.message}${hint}`, 1, { cause: error });
  }
  if (error instanceof HordeConnectionError) return new DrawError(error.message, 1, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new DrawError(`draw failed: ${message}`, 1, { cause: error });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
