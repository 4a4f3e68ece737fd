/**
 * Requesters for the multi-node tests: each posts image requests where a plan says, and for some of them
 * opens the request's SSE stream on another node. A stream's first event (`state`) opens a gate the workers
 * wait on before submitting a job of that request, so the stream is sure to see every `generation`.
 */
import type { ClusterNode } from '../support/cluster.js';
import { callNode, type HttpLog, sleep, smallImageRequest, type TestUser } from '../support/cluster-load.js';
import { openSse, type SseEvent } from '../support/horde-http.js';
import { CI_CLIENT_AGENT } from '../support/server.js';

export interface StreamWatch {
  /** The node the stream was opened on. */
  node: number;
  status?: number;
  events: SseEvent[];
  /** The stream closed within a second of its final event. */
  closedAfterFinal: boolean;
  error?: string;
  finished: Promise<void>;
}

export interface Accepted {
  id: string;
  prompt: string;
  n: number;
  /** The node that answered 202. */
  node: number;
  models: string[];
  at: number;
  stream?: StreamWatch;
}

export interface RequestLog {
  accepted: Map<string, Accepted>;
  /** Prompt → request id (prompts are unique; a pop's payload carries its prompt). */
  byPrompt: Map<string, string>;
  /** Answers other than 202 from a live node. */
  refusals: string[];
  /** Posts that got no answer (their node was killed): not accepted, whatever became of them. */
  unanswered: number;
  /** Prompt → the promise a worker awaits before submitting a job of that request. */
  gates: Map<string, Promise<void>>;
}

export function emptyRequestLog(): RequestLog {
  return { accepted: new Map(), byPrompt: new Map(), refusals: [], unanswered: 0, gates: new Map() };
}

export interface PlannedRequest {
  node: ClusterNode;
  n: number;
  models: string[];
  /** Open the request's SSE stream on this node. */
  streamOn?: ClusterNode;
}

const FINAL = new Set(['done', 'faulted', 'cancelled', 'expired']);

async function watchStream(node: ClusterNode, id: string, openGate: () => void): Promise<StreamWatch> {
  const watch: StreamWatch = {
    node: node.index,
    events: [],
    closedAfterFinal: false,
    finished: Promise.resolve(),
  };
  watch.finished = (async () => {
    try {
      const reader = await openSse(`${node.app.api}/generate/stream/${id}`, {
        'Client-Agent': CI_CLIENT_AGENT,
      });
      watch.status = reader.status;
      try {
        for (;;) {
          const event = await reader.next(20_000);
          if (!event) break;
          watch.events.push(event);
          if (event.event === 'state') openGate();
          if (FINAL.has(event.event)) {
            watch.closedAfterFinal = await Promise.race([
              reader.ended.then(() => true),
              sleep(1_000).then(() => false),
            ]);
            // Anything after the final event would be a bug: read what is left.
            for (let extra = await reader.next(50); extra; extra = await reader.next(50)) {
              watch.events.push(extra);
            }
            break;
          }
        }
      } finally {
        reader.close();
      }
    } catch (error) {
      watch.error = (error as Error).message;
    } finally {
      openGate();
    }
  })();
  return watch;
}

/**
 * One loop per requester: request `i` of requester `r` goes where `plan(r, i)` says, until it says
 * `undefined`. Streams keep running after the loops end; await `streams()` for them.
 */
export function runRequesters(options: {
  requesters: TestUser[];
  http: HttpLog;
  log: RequestLog;
  plan: (r: number, i: number) => PlannedRequest | undefined;
  pauseMs: readonly [number, number];
  label: string;
}): { finished: Promise<void>; streams(): Promise<void> } {
  const { http, log } = options;
  const loops = options.requesters.map(async (requester, r) => {
    for (let i = 0; ; i++) {
      const planned = options.plan(r, i);
      if (!planned) return;
      const prompt = `${options.label} r${r} #${i}`;
      let openGate = () => {};
      if (planned.streamOn) {
        log.gates.set(
          prompt,
          new Promise<void>((resolve) => {
            openGate = resolve;
          }),
        );
      }
      try {
        const answer = await callNode(http, planned.node, 'POST', '/generate/async', {
          apikey: requester.apikey,
          body: smallImageRequest(prompt, planned.n, planned.models),
        });
        if (answer.status === 202 && typeof answer.body.id === 'string') {
          const accepted: Accepted = {
            id: answer.body.id,
            prompt,
            n: planned.n,
            node: planned.node.index,
            models: planned.models,
            at: Date.now(),
          };
          log.accepted.set(accepted.id, accepted);
          log.byPrompt.set(prompt, accepted.id);
          if (planned.streamOn) accepted.stream = await watchStream(planned.streamOn, accepted.id, openGate);
        } else {
          log.refusals.push(`node ${planned.node.index}: ${answer.status} ${JSON.stringify(answer.body)}`);
          openGate();
        }
      } catch {
        log.unanswered++;
        openGate();
      }
      const [min, max] = options.pauseMs;
      await sleep(min + Math.random() * (max - min));
    }
  });
  return {
    finished: Promise.all(loops).then(() => {}),
    async streams() {
      await Promise.all([...log.accepted.values()].map((accepted) => accepted.stream?.finished));
    },
  };
}

/**
 * Polls `/generate/check` on the live nodes (a different one each time) until every accepted request is
 * done; returns the ones that are not when `timeoutMs` runs out.
 */
export async function waitUntilDone(
  log: RequestLog,
  nodes: ClusterNode[],
  http: HttpLog,
  timeoutMs: number,
): Promise<string[]> {
  const open = new Set(log.accepted.keys());
  const deadline = Date.now() + timeoutMs;
  let turn = 0;
  const last = new Map<string, unknown>();
  while (open.size > 0 && Date.now() < deadline) {
    for (const id of [...open]) {
      const live = nodes.filter((node) => !node.dead);
      const node = live[turn++ % live.length]!;
      const check = await callNode(http, node, 'GET', `/generate/check/${id}`);
      last.set(id, check.body);
      if (check.status === 200 && check.body.done === true) open.delete(id);
    }
    if (open.size > 0) await sleep(200);
  }
  return [...open].map((id) => `${id}: ${JSON.stringify(last.get(id))}`);
}
