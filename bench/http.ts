/**
 * `npm run bench:http`: the AI Horde server's request rates against a bare Hono app on this machine.
 * Each server runs in its own child process (`bench/http/server.ts`); autocannon drives it from here:
 *
 *   (a) the bare Hono JSON POST rate (before and after the rest, averaged);
 *   (b) a mixed workload — requesters posting image requests and polling `check`, workers popping,
 *       uploading and submitting — and (d) the pop latency within it;
 *   (c) the pop → upload → submit cycle rate with a queue filled beforehand;
 *   (e) 1,000 idle workers polling pop against 100,000 waiting requests they cannot serve;
 *   (f) `check` polled on one waiting request: the HTTP layer around an engine call of a few µs.
 *
 * Prints a table and rewrites the "HTTP server" section of `docs/benchmarks.md`.
 *
 *   npm run bench:http
 *   BENCH_SECONDS=3 npm run bench:http      # quicker, noisier
 *   BENCH_CPU_PROF=/tmp/prof npm run bench:http   # and a CPU profile of each server process
 *   BENCH_MEASURED_PROF=/tmp/prof npm run bench:http   # a profile of each measured run only
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './engine/report.js';
import { bareEcho, checkPolls, idlePolls, mixed, popSubmitCycles } from './http/load.js';
import { imageRequest } from './http/protocol.js';
import { type HttpFigures, percentile, rows, writeSection } from './http/report.js';
import { withServer } from './http/server-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Math.min(2, SECONDS);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 24);
const REQUESTER_CONNECTIONS = Math.round(CONNECTIONS * 0.4);
const PREFILL = Number(process.env.BENCH_PREFILL ?? 80_000);
const IDLE_WORKERS = 1000;
const IDLE_QUEUE = Number(process.env.BENCH_IDLE_QUEUE ?? 100_000);
const QUEUES = { BENCH_PREFILL: String(PREFILL), BENCH_IDLE_QUEUE: String(IDLE_QUEUE) };

const progress = (text: string) => process.stderr.write(text);
const run = (port: number, seconds = SECONDS, connections = CONNECTIONS) => ({ port, seconds, connections });

progress('(a) bare Hono… ');
const bare = () =>
  withServer('bare', async ({ port }, mark) => {
    await bareEcho(run(port, WARMUP_SECONDS));
    await mark();
    return bareEcho(run(port));
  });
const bareBefore = await bare();

progress('(b) mixed… ');
const mixedRun = await withServer('horde', async ({ port, keys }, mark) => {
  const options = { ...run(port), requesterConnections: REQUESTER_CONNECTIONS };
  await mixed({ ...options, seconds: WARMUP_SECONDS }, keys.requester, keys.owners);
  await mark();
  return mixed(options, keys.requester, keys.owners);
});

progress(`(c) cycles on ${PREFILL.toLocaleString('en-US')} queued… `);
const cycleRun = await withServer(
  'prefilled',
  async ({ port, keys }, mark) => {
    await popSubmitCycles(run(port, WARMUP_SECONDS), keys.owners);
    await mark();
    return popSubmitCycles(run(port), keys.owners);
  },
  QUEUES,
);

progress(`(e) ${IDLE_WORKERS} idle workers, ${IDLE_QUEUE.toLocaleString('en-US')} queued… `);
const idleRun = await withServer(
  'idle',
  async ({ port, keys }, mark) => {
    const options = { ...run(port), workers: IDLE_WORKERS };
    const registration = await idlePolls(options, keys.owners, { amount: IDLE_WORKERS });
    if (registration.non2xx + registration.errors > 0) {
      throw new Error(`registering the idle workers failed: ${JSON.stringify(registration)}`);
    }
    await idlePolls(options, keys.owners, { seconds: WARMUP_SECONDS });
    await mark();
    return idlePolls(options, keys.owners, { seconds: SECONDS });
  },
  QUEUES,
);

progress('(f) check polls… ');
const checkRun = await withServer('horde', async ({ port, keys }, mark) => {
  const accepted = await fetch(`http://127.0.0.1:${port}/api/v2/generate/async`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: keys.requester },
    body: JSON.stringify(imageRequest('polled', 'stable_diffusion')),
  });
  const { id } = (await accepted.json()) as { id: string };
  await checkPolls(run(port, WARMUP_SECONDS), id);
  await mark();
  return checkPolls(run(port), id);
});

progress('(a) bare Hono again… ');
const bareAfter = await bare();
progress('done\n');

const pops = mixedRun.result.workers.latencies.pop;
const figures: HttpFigures = {
  seconds: SECONDS,
  connections: CONNECTIONS,
  bare: [bareBefore, bareAfter].map(({ result, report }) => ({ ...result, server: report })),
  mixed: { ...mixedRun.result, server: mixedRun.report, requesterConnections: REQUESTER_CONNECTIONS },
  cycles: {
    ...cycleRun.result,
    server: cycleRun.report,
    prefill: PREFILL,
    fillSeconds: cycleRun.ready.fillSeconds,
  },
  popUnderMixed: { p50: percentile(pops, 50), p99: percentile(pops, 99), count: pops.length },
  check: { ...checkRun.result, server: checkRun.report },
  idle: {
    ...idleRun.result,
    workers: IDLE_WORKERS,
    queued: IDLE_QUEUE,
    fillSeconds: idleRun.ready.fillSeconds,
    server: idleRun.report,
  },
};

if (process.env.BENCH_VERBOSE)
  process.stderr.write(
    `${JSON.stringify(figures, (key, value) => (key === 'latencies' ? undefined : value), 2)}\n`,
  );
const info = machine();
console.log(`\n${info.summary}\n`);
for (const row of rows(figures)) {
  console.log(
    `${row.figure.padEnd(72)} ${row.measured.padStart(34)}  ${row.target.padStart(7)}  ${row.verdict}`,
  );
}
const path = writeSection(join(root, 'docs', 'benchmarks.md'), figures, info);
// The repository's formatter aligns Markdown tables; run it so `npm test`'s `biome check` stays clean.
execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', path], {
  cwd: root,
  stdio: 'ignore',
});
console.log(`\nrecorded in ${path}`);
