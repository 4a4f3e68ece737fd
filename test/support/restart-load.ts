/**
 * Requesters and workers talking to a horde over HTTP while the restart test kills it. Every response that
 * came back is written to a `LoadLog` the moment it arrives; whatever was in flight at the kill is not.
 */
import { CI_CLIENT_AGENT, REGEN_AGENT, TINY_WEBP_BASE64 } from './server.js';

export interface HttpResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the wire; the test's assertions check its shape
  body: any;
}

/** One JSON call; throws when the connection fails (the server was killed). */
export async function call(
  api: string,
  method: string,
  path: string,
  options: { apikey?: string; body?: unknown } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { 'Client-Agent': CI_CLIENT_AGENT };
  if (options.apikey) headers.apikey = options.apikey;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${api}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : text;
  } catch {}
  return { status: response.status, body };
}

/** What the horde acknowledged before the kill. */
export interface LoadLog {
  /** Accepted request id → its prompt (prompts are unique, and a pop's payload carries its prompt). */
  accepted: Map<string, { prompt: string; n: number }>;
  /** Popped job id → the prompt of its request. */
  popped: Map<string, string>;
  /** Job id → the bytes whose upload was answered with a 2xx. */
  uploaded: Map<string, Buffer>;
  /** Job ids whose submit was answered 200. */
  submitted: Set<string>;
  /** Job ids popped more than once. */
  poppedTwice: string[];
}

export function emptyLog(): LoadLog {
  return {
    accepted: new Map(),
    popped: new Map(),
    uploaded: new Map(),
    submitted: new Set(),
    poppedTwice: [],
  };
}

const BASE_WEBP = Buffer.from(TINY_WEBP_BASE64, 'base64');

/** A valid WebP that differs per job: the tiny image plus a RIFF chunk holding `tag`. */
export function taggedWebp(tag: string): Buffer {
  let data = Buffer.from(tag);
  if (data.length % 2) data = Buffer.concat([data, Buffer.alloc(1)]);
  const header = Buffer.alloc(8);
  header.write('HKTG', 0, 'ascii');
  header.writeUInt32LE(Buffer.byteLength(tag), 4);
  const file = Buffer.concat([BASE_WEBP, header, data]);
  file.writeUInt32LE(file.length - 8, 4);
  return file;
}

export interface Load {
  /** Stops the loops after their current call and waits for them. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function requestBody(prompt: string, n: number) {
  return {
    prompt,
    nsfw: false,
    models: ['stable_diffusion'],
    params: { width: 512, height: 512, steps: 20, n, sampler_name: 'k_euler_a' },
  };
}

/** Requesters posting image requests until stopped or until the server goes away. */
export function runRequesters(api: string, keys: string[], log: LoadLog, label: string): Load {
  let stopped = false;
  const loops = keys.map(async (apikey, r) => {
    for (let i = 0; !stopped; i++) {
      const prompt = `restart ${label} r${r} #${i}`;
      const n = 1 + (i % 2);
      let result: HttpResult;
      try {
        result = await call(api, 'POST', '/generate/async', { apikey, body: requestBody(prompt, n) });
      } catch {
        return;
      }
      if (result.status === 202) log.accepted.set(result.body.id, { prompt, n });
      else await sleep(25);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export interface WorkerIdentity {
  name: string;
  apikey: string;
}

/** Jobs a worker asks for per pop. */
export const POP_AMOUNT = 2;

/** One pop → upload each job → submit each job, logging each acknowledged step. */
export async function workOnce(api: string, worker: WorkerIdentity, log: LoadLog): Promise<number> {
  const popped = await call(api, 'POST', '/generate/pop', {
    apikey: worker.apikey,
    body: {
      name: worker.name,
      models: ['stable_diffusion'],
      bridge_agent: REGEN_AGENT,
      amount: POP_AMOUNT,
      nsfw: false,
      max_pixels: 512 * 512,
    },
  });
  if (popped.status !== 200) throw new Error(`pop answered ${popped.status}: ${JSON.stringify(popped.body)}`);
  const ids: string[] = popped.body.ids ?? [];
  for (const id of ids) {
    if (log.popped.has(id)) log.poppedTwice.push(id);
    log.popped.set(id, popped.body.payload.prompt);
  }
  for (const [i, id] of ids.entries()) {
    const bytes = taggedWebp(id);
    const upload = await fetch(popped.body.r2_uploads[i], {
      method: 'PUT',
      body: bytes,
      headers: { 'Content-Type': 'image/webp' },
    });
    await upload.arrayBuffer();
    if (!upload.ok) throw new Error(`upload answered ${upload.status}`);
    log.uploaded.set(id, bytes);
    const submitted = await call(api, 'POST', '/generate/submit', {
      apikey: worker.apikey,
      body: { id, generation: 'R2', state: 'ok', seed: 0 },
    });
    if (submitted.status !== 200) {
      throw new Error(`submit answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
    }
    log.submitted.add(id);
  }
  return ids.length;
}

/**
 * Workers looping on `workOnce` until stopped or until the server goes away. A refusal from a live server
 * (not a dropped connection) is kept in `errors`, for the test to show.
 */
export function runWorkers(api: string, workers: WorkerIdentity[], log: LoadLog, errors: string[]): Load {
  let stopped = false;
  const loops = workers.map(async (worker) => {
    while (!stopped) {
      let jobs: number;
      try {
        jobs = await workOnce(api, worker, log);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!/fetch failed|ECONNRESET|ECONNREFUSED|other side closed/.test(message)) errors.push(message);
        return;
      }
      if (jobs === 0) await sleep(10);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
