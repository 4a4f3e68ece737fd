/**
 * The autocannon workloads of `bench/http.ts`. Each role is one autocannon instance whose connections loop
 * over a short sequence of requests; a worker's sequence is pop → upload the image to the signed URL →
 * submit, chained through autocannon's per-connection `context` (when a pop finds nothing, the upload step
 * returns no request and the connection starts over with a pop).
 */
import autocannon from 'autocannon';
import { CLIENT_AGENT, IDLE_OWNERS, imageRequest, popBody, TINY_WEBP } from './protocol.js';

export interface Rate {
  /** Responses per second over the run. */
  perSecond: number;
  responses: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  seconds: number;
}

export interface RunOptions {
  port: number;
  connections: number;
  seconds: number;
}

interface Context {
  job?: { id: string; upload: string };
  requestId?: string;
}

const API = '/api/v2';
const POP_PATH = `${API}/generate/pop`;

function json(apikey: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'client-agent': CLIENT_AGENT,
  };
  if (apikey) headers.apikey = apikey;
  return headers;
}

function rateOf(result: autocannon.Result): Rate {
  const responses = result.requests.total;
  return {
    perSecond: responses / result.duration,
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    seconds: result.duration,
  };
}

/** Runs one autocannon instance; `onResponse` sees each response's client and latency (ms). */
function fire(
  options: autocannon.Options,
  onResponse?: (client: autocannon.Client, status: number, latencyMs: number) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ pipelining: 1, ...options }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    if (onResponse)
      instance.on('response', (client, status, _bytes, time) => onResponse(client, status, time));
  });
}

/** (a) The bare Hono app's JSON POST. */
export async function bareEcho(run: RunOptions): Promise<Rate> {
  const result = await fire({
    url: `http://127.0.0.1:${run.port}/echo`,
    connections: run.connections,
    duration: run.seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: 1 }),
  });
  return rateOf(result);
}

/** (f) Requesters polling `GET /generate/check/{id}` of one waiting request: the HTTP layer around a cheap verb. */
export async function checkPolls(run: RunOptions, requestId: string): Promise<Rate> {
  const result = await fire({
    url: `http://127.0.0.1:${run.port}${API}/generate/check/${requestId}`,
    connections: run.connections,
    duration: run.seconds,
    method: 'GET',
    headers: { 'client-agent': CLIENT_AGENT },
  });
  return rateOf(result);
}

/** One worker connection's loop: pop, upload the image, submit it. */
function workerSequence(name: string, apikey: string): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: POP_PATH,
      headers: json(apikey),
      body: JSON.stringify(popBody(name)),
      onResponse: (status, body, context) => {
        if (status !== 200) return;
        const popped = JSON.parse(body) as { id: string | null; r2_uploads?: string[] };
        if (popped.id && popped.r2_uploads?.[0]) {
          (context as Context).job = { id: popped.id, upload: popped.r2_uploads[0] };
        }
      },
    },
    {
      setupRequest: (request, context) => {
        const job = (context as Context).job;
        if (!job) return undefined as unknown as autocannon.Request;
        const url = new URL(job.upload);
        return {
          ...request,
          method: 'PUT',
          path: `${url.pathname}${url.search}`,
          headers: { 'content-type': 'image/webp', 'client-agent': CLIENT_AGENT },
          body: TINY_WEBP,
        };
      },
    },
    {
      setupRequest: (request, context) => ({
        ...request,
        method: 'POST',
        path: `${API}/generate/submit`,
        headers: json(apikey),
        body: JSON.stringify({ id: (context as Context).job!.id, generation: 'R2', state: 'ok', seed: 0 }),
      }),
    },
  ];
}

export interface WorkerFigures {
  rate: Rate;
  /** Jobs submitted (pop → upload → submit completed). */
  cycles: number;
  emptyPops: number;
  /** Latency (ms) of each pop, upload and submit. */
  latencies: { pop: number[]; upload: number[]; submit: number[] };
}

/** Worker connections, each a distinct worker (owned by the `IDLE_OWNERS` accounts in turn). */
async function workers(run: RunOptions, owners: string[], label: string): Promise<WorkerFigures> {
  let next = 0;
  let cycles = 0;
  const latencies: WorkerFigures['latencies'] = { pop: [], upload: [], submit: [] };
  const result = await fire(
    {
      url: `http://127.0.0.1:${run.port}`,
      connections: run.connections,
      duration: run.seconds,
      setupClient: (client) => {
        const i = next++;
        client.setRequests(workerSequence(`${label}-${i}`, owners[i % owners.length]!));
      },
    },
    (client, status, latency) => {
      // Which step of the sequence was answered: 0 pop, 1 upload, 2 submit.
      const step = (client as unknown as { requestIterator: { currentRequestIndex: number } }).requestIterator
        .currentRequestIndex;
      if (step === 0) latencies.pop.push(latency);
      else if (step === 1) latencies.upload.push(latency);
      else if (step === 2) {
        latencies.submit.push(latency);
        if (status === 200) cycles++;
      }
    },
  );
  return {
    rate: rateOf(result),
    cycles,
    emptyPops: latencies.pop.length - latencies.upload.length,
    latencies,
  };
}

/** (c) Workers alone against a queue filled beforehand. */
export function popSubmitCycles(run: RunOptions, owners: string[]): Promise<WorkerFigures> {
  return workers(run, owners, 'cycle-worker');
}

export interface MixedFigures {
  requesters: Rate;
  accepted: number;
  workers: WorkerFigures;
  /** All responses of both roles per second. */
  perSecond: number;
  responses: number;
  non2xx: number;
  errors: number;
}

/**
 * (b) Requesters and workers at once. A requester posts an image request then polls its `check` four
 * times (a client polls while its images are made); a worker pops, uploads and submits. Workers get a few
 * more connections than requesters, so that they keep up and the queue stays short (and some pops come
 * back empty, as on a real horde).
 */
export async function mixed(
  run: RunOptions & {
    requesterConnections: number;
    /** Prefix of the workers' names: distinct per load generator when several share one horde. */
    workerLabel?: string;
  },
  requester: string,
  owners: string[],
): Promise<MixedFigures> {
  let accepted = 0;
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path: `${API}/generate/async`,
      headers: json(requester),
      body: JSON.stringify(imageRequest('a lighthouse at dusk, oil painting')),
      onResponse: (status, body, context) => {
        if (status !== 202) return;
        accepted++;
        (context as Context).requestId = (JSON.parse(body) as { id: string }).id;
      },
    },
    ...[1, 2, 3, 4].map(
      (): autocannon.Request => ({
        setupRequest: (request, context) => {
          const id = (context as Context).requestId;
          if (!id) return undefined as unknown as autocannon.Request;
          return { ...request, method: 'GET', path: `${API}/generate/check/${id}`, headers: json(undefined) };
        },
      }),
    ),
  ];
  const [requesterResult, workerFigures] = await Promise.all([
    fire({
      url: `http://127.0.0.1:${run.port}`,
      connections: run.requesterConnections,
      duration: run.seconds,
      requests,
    }),
    workers(
      { ...run, connections: run.connections - run.requesterConnections },
      owners,
      run.workerLabel ?? 'mixed-worker',
    ),
  ]);
  const requesters = rateOf(requesterResult);
  const responses = requesters.responses + workerFigures.rate.responses;
  return {
    requesters,
    accepted,
    workers: workerFigures,
    perSecond: responses / Math.max(requesters.seconds, workerFigures.rate.seconds),
    responses,
    non2xx: requesters.non2xx + workerFigures.rate.non2xx,
    errors: requesters.errors + workerFigures.rate.errors,
  };
}

/**
 * Clients posting image requests with one API key, each as soon as its previous one is answered: many
 * concurrent charges to one account (`bench/scale.ts`). No worker serves them; they wait in the queue.
 */
export async function imageRequests(run: RunOptions, apikey: string): Promise<Rate & { accepted: number }> {
  let accepted = 0;
  const result = await fire(
    {
      url: `http://127.0.0.1:${run.port}${API}/generate/async`,
      connections: run.connections,
      duration: run.seconds,
      method: 'POST',
      headers: json(apikey),
      body: JSON.stringify(imageRequest('a lighthouse at dusk, oil painting')),
    },
    (_client, status) => {
      if (status === 202) accepted++;
    },
  );
  return { ...rateOf(result), accepted };
}

/**
 * (e) `workers` idle workers with distinct names, owned by the `IDLE_OWNERS` accounts, polling pop in
 * turn. `amount` runs each exactly once first (their registration), `seconds` measures.
 */
export async function idlePolls(
  run: RunOptions & { workers: number },
  owners: string[],
  mode: { amount: number } | { seconds: number },
): Promise<Rate> {
  let next = 0;
  const bodies = Array.from({ length: run.workers }, (_, i) => JSON.stringify(popBody(`idle-${i}`)));
  const headers = Array.from({ length: IDLE_OWNERS }, (_, i) => json(owners[i % owners.length]));
  const result = await fire({
    url: `http://127.0.0.1:${run.port}`,
    connections: run.connections,
    ...('amount' in mode ? { amount: mode.amount } : { duration: mode.seconds }),
    requests: [
      {
        setupRequest: (request) => {
          const i = next++ % run.workers;
          return {
            ...request,
            method: 'POST',
            path: POP_PATH,
            headers: headers[i % IDLE_OWNERS],
            body: bodies[i],
          };
        },
      },
    ],
  });
  return rateOf(result);
}
