/**
 * Simulated image workers and requesters talking HTTP to the nodes of a cluster (`cluster.ts`). Every answer
 * is kept per node (`HttpLog`), every pop and submit per job (`WorkLog`), so a test can check afterwards that
 * no job went to two workers, that each was submitted once, and that live nodes never failed.
 */
import type { ClusterNode } from './cluster.js';
import { type HttpResult, taggedWebp } from './restart-load.js';
import { CI_CLIENT_AGENT } from './server.js';

/** A current official image bridge: its rewards are credited ×1.0. */
export const REGEN_13_AGENT = 'AI Horde Worker reGen:13.0.0:https://github.com/Haidra-Org/horde-worker-reGen';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = ([min, max]: readonly [number, number]) => min + Math.random() * (max - min);

export interface HttpLog {
  /** Every answer, by the node that gave it. */
  answers: { node: number; method: string; path: string; status: number; body: unknown; at: number }[];
  /** Calls that got no answer (connection refused or reset). */
  failures: { node: number; method: string; path: string; error: string; at: number }[];
}

export function emptyHttpLog(): HttpLog {
  return { answers: [], failures: [] };
}

/** One JSON call to one node, logged; throws (after logging) when no answer came. */
export async function callNode(
  log: HttpLog,
  node: ClusterNode,
  method: string,
  path: string,
  options: { apikey?: string; body?: unknown } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { 'Client-Agent': CI_CLIENT_AGENT };
  if (options.apikey) headers.apikey = options.apikey;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${node.app.api}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    text = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    log.failures.push({
      node: node.index,
      method,
      path,
      error: `${(error as Error).message}${cause ? ` (${cause})` : ''}`,
      at: Date.now(),
    });
    throw error;
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : text;
  } catch {}
  log.answers.push({ node: node.index, method, path, status: response.status, body, at: Date.now() });
  return { status: response.status, body };
}

export interface TestUser {
  id: number;
  apikey: string;
  username: string;
}

/** A registered account, neither trusted nor moderator, holding `kudos` (minted by `/dev/test-user`). */
export async function createTestUser(
  log: HttpLog,
  node: ClusterNode,
  username: string,
  kudos: number,
): Promise<TestUser> {
  const created = await callNode(log, node, 'POST', '/dev/test-user', {
    body: { username, oauth_id: `oauth_${username}`, kudos, trusted: false, moderator: false },
  });
  if (created.status !== 201) {
    throw new Error(`test-user ${username}: ${created.status} ${JSON.stringify(created.body)}`);
  }
  return { id: Number(created.body.user_id), apikey: created.body.api_key, username };
}

export interface SimWorker {
  name: string;
  owner: TestUser;
  /** The node it pops from and submits to, and only that one. */
  node: ClusterNode;
  models: string[];
  /** How long it "generates" a batch, in ms (uniform between the two). */
  genMs: readonly [number, number];
  /** Jobs popped and not yet sent back. */
  holding: Set<string>;
  /** Set by the test: the worker drops what it holds and stops at its next step. */
  dead: boolean;
}

export interface WorkLog {
  /** Job id → who popped it, the prompt of its request, when the pop answered. */
  popped: Map<string, { worker: string; prompt: string; at: number }>;
  /** Job ids a pop handed out when they had already been handed out. */
  poppedTwice: string[];
  /** Job id → the reward its submit was answered with. */
  submitted: Map<string, { worker: string; reward: number; at: number }>;
  /** Job ids whose submit was sent but got no answer (the node died). */
  submitUnanswered: Set<string>;
  /** Refusals from a live node (pop or submit answered with something else than 200), for the test to show. */
  errors: string[];
}

export function emptyWorkLog(): WorkLog {
  return {
    popped: new Map(),
    poppedTwice: [],
    submitted: new Map(),
    submitUnanswered: new Set(),
    errors: [],
  };
}

export const POP_AMOUNT = 2;

export interface WorkOptions {
  /** Awaited before submitting a job of the request with this prompt (e.g. until a stream is open). */
  gate?: (prompt: string) => Promise<void> | undefined;
}

/**
 * Each worker loops pop → wait `genMs` → submit each job as base64 WebP, until stopped or dead. A dead
 * worker's node is gone: it stops without submitting what it holds, and its failed calls are not errors.
 */
export function runWorkers(
  workers: SimWorker[],
  work: WorkLog,
  http: HttpLog,
  options: WorkOptions = {},
): { stop(): Promise<void> } {
  let stopped = false;
  const loop = async (worker: SimWorker) => {
    while (!stopped && !worker.dead) {
      let popped: HttpResult;
      try {
        popped = await callNode(http, worker.node, 'POST', '/generate/pop', {
          apikey: worker.owner.apikey,
          body: {
            name: worker.name,
            models: worker.models,
            bridge_agent: REGEN_13_AGENT,
            amount: POP_AMOUNT,
            nsfw: false,
            max_pixels: 2_097_152,
          },
        });
      } catch (error) {
        if (worker.dead) return;
        work.errors.push(`${worker.name} pop: ${(error as Error).message}`);
        await sleep(100);
        continue;
      }
      if (popped.status !== 200) {
        if (worker.dead) return;
        work.errors.push(`${worker.name} pop: ${popped.status} ${JSON.stringify(popped.body)}`);
        await sleep(100);
        continue;
      }
      const ids: string[] = popped.body.ids ?? [];
      if (ids.length === 0) {
        await sleep(20);
        continue;
      }
      const prompt: string = popped.body.payload.prompt;
      for (const id of ids) {
        if (work.popped.has(id)) work.poppedTwice.push(id);
        work.popped.set(id, { worker: worker.name, prompt, at: Date.now() });
        worker.holding.add(id);
      }
      if (worker.dead) return;
      await sleep(between(worker.genMs));
      const gate = options.gate?.(prompt);
      if (gate) await gate;
      for (const id of ids) {
        if (worker.dead) return;
        worker.holding.delete(id);
        let submitted: HttpResult;
        try {
          submitted = await callNode(http, worker.node, 'POST', '/generate/submit', {
            apikey: worker.owner.apikey,
            body: { id, generation: taggedWebp(id).toString('base64'), state: 'ok', seed: 0 },
          });
        } catch (error) {
          work.submitUnanswered.add(id);
          if (worker.dead) return;
          work.errors.push(`${worker.name} submit ${id}: ${(error as Error).message}`);
          continue;
        }
        if (submitted.status === 200 && typeof submitted.body.reward === 'number') {
          work.submitted.set(id, { worker: worker.name, reward: submitted.body.reward, at: Date.now() });
        } else {
          work.errors.push(
            `${worker.name} submit ${id}: ${submitted.status} ${JSON.stringify(submitted.body)}`,
          );
        }
      }
    }
  };
  const loops = workers.map(loop);
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The body of a small image request (512², 10 steps): no upfront kudos, well within the free tier. */
export function smallImageRequest(prompt: string, n: number, models: string[]) {
  return {
    prompt,
    nsfw: false,
    models,
    params: { width: 512, height: 512, steps: 10, n, sampler_name: 'k_euler_a' },
  };
}
