/**
 * `npm run bench:worker`: what our worker node adds per job when the backend is instant. The server
 * (`bench/http/server.ts`, a queue filled beforehand so pops never come back empty) runs in a child
 * process; the worker runs here, on the other core, with an in-process backend that returns a finished
 * 512×512 image at once:
 *
 *   webp   the backend hands over a WebP: the worker only pops, uploads and submits (protocol overhead);
 *   png    the backend hands over a PNG, as AUTOMATIC1111 does: the worker also encodes it to WebP.
 *
 * Each with `threads: 1` (per-job overhead = wall time per job) and `threads: 4` (jobs per second one
 * worker completes). Prints a table and rewrites the "Worker node" section of `docs/benchmarks.md`.
 *
 *   npm run bench:worker
 *   BENCH_SECONDS=3 npm run bench:worker   # quicker, noisier
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BRIDGE_AGENT, HordeApi, type ImageBackend, ImageWorker } from '@hordekit/worker';
import sharp from 'sharp';
import { replaceSection } from './benchmarks-doc.js';
import { machine } from './engine/report.js';
import { withServer } from './http/server-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Math.min(2, SECONDS);
/** More than four runs can serve at any rate seen here, so pops never come back empty. */
const PREFILL = Number(process.env.BENCH_PREFILL ?? 40_000);
const HEADING = '## Worker node (`npm run bench:worker`)';

type Format = 'webp' | 'png';
type CallKind = 'pop' | 'upload' | 'submit';

interface RunFigures {
  format: Format;
  threads: number;
  jobs: number;
  seconds: number;
  /** Mean wall time of each HTTP call kind, ms. */
  callMs: Record<CallKind, number>;
  /** CPU time of this (the worker's) process per job, µs. */
  workerCpuUs: number;
  /** CPU time of the server process per job, µs (its background work included). */
  serverCpuUs: number;
  /** The server's CPU time over the measured span, as a share of its core. */
  serverBusy: number;
  /** From the mark to the worker's stop, ms: the span the server's CPU time covers. */
  spanMs: number;
}

/** A backend that answers at once with the same finished image. */
async function instantBackend(format: Format): Promise<ImageBackend> {
  const image = sharp({ create: { width: 512, height: 512, channels: 3, background: '#4a6fa5' } });
  const data = await (format === 'webp' ? image.webp({ quality: 95 }) : image.png()).toBuffer();
  return {
    kind: `instant-${format}`,
    features: {
      img2img: false,
      inpainting: false,
      lora: false,
      postProcessing: false,
      karras: true,
      tiling: false,
      clipSkip: false,
      hiresFix: false,
      batch: true,
    },
    models: async () => ['stable_diffusion'],
    generate: async (job) =>
      Array.from({ length: job.count }, (_, index) => ({ data, seed: job.seed + index })),
  };
}

/** `fetch` that times each horde call by kind. */
function timedFetch(totals: Record<CallKind, { ms: number; count: number }>): typeof fetch {
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const kind: CallKind = url.includes('/generate/pop')
      ? 'pop'
      : url.includes('/generate/submit')
        ? 'submit'
        : 'upload';
    const started = performance.now();
    const response = await fetch(input, init);
    const body = await response.arrayBuffer();
    totals[kind].ms += performance.now() - started;
    totals[kind].count += 1;
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

async function measure(
  port: number,
  ownerKey: string,
  format: Format,
  threads: number,
  mark: () => Promise<void>,
): Promise<Omit<RunFigures, 'serverCpuUs' | 'serverBusy'>> {
  const totals = { pop: { ms: 0, count: 0 }, upload: { ms: 0, count: 0 }, submit: { ms: 0, count: 0 } };
  const worker = new ImageWorker({
    api: new HordeApi({
      url: `http://127.0.0.1:${port}`,
      apiKey: ownerKey,
      clientAgent: BRIDGE_AGENT,
      fetch: timedFetch(totals),
    }),
    name: `bench-${format}-${threads}`,
    bridgeAgent: BRIDGE_AGENT,
    backend: await instantBackend(format),
    threads,
    maxPixels: 1024 * 1024,
  });
  await worker.start();
  await sleep(WARMUP_SECONDS * 1000);
  await mark();
  const markedAt = performance.now();
  const startDone = worker.snapshot().done;
  for (const entry of Object.values(totals)) Object.assign(entry, { ms: 0, count: 0 });
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  await sleep(SECONDS * 1000);
  const jobs = worker.snapshot().done - startDone;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await worker.stop();
  const mean = (kind: CallKind) => (totals[kind].count ? totals[kind].ms / totals[kind].count : 0);
  return {
    format,
    threads,
    jobs,
    seconds,
    callMs: { pop: mean('pop'), upload: mean('upload'), submit: mean('submit') },
    workerCpuUs: ((cpu.user + cpu.system) / jobs) | 0,
    spanMs: performance.now() - markedAt,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const runs: RunFigures[] = [];
for (const format of ['webp', 'png'] as const) {
  for (const threads of [1, 4]) {
    process.stderr.write(`${format}, threads ${threads}… `);
    // A fresh server per run, so that each run's server CPU is its own. The server counts CPU from the
    // mark until it is told to stop, after the worker drained at most `threads` more jobs: close enough.
    const { result, report } = await withServer(
      'prefilled',
      ({ port, keys }, mark) => measure(port, keys.owners[0]!, format, threads, mark),
      { BENCH_PREFILL: String(PREFILL) },
    );
    runs.push({
      ...result,
      serverCpuUs: ((report.cpuMs * 1000) / result.jobs) | 0,
      serverBusy: report.cpuMs / result.spanMs,
    });
  }
}
process.stderr.write('done\n');

const info = machine();
const byKey = (format: Format, threads: number) =>
  runs.find((run) => run.format === format && run.threads === threads)!;
const rate = (run: RunFigures) => run.jobs / run.seconds;
const perJobMs = (run: RunFigures) => (1000 * run.seconds) / run.jobs;
const f2 = (value: number) => value.toFixed(2);

const pct = (value: number) => `${Math.round(value * 100)} %`;
const table = [
  '| backend hands over | threads | jobs/s | wall ms per job | pop / upload / submit, mean ms | worker CPU µs per job | server CPU µs per job | server core busy |',
  '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ...runs.map(
    (run) =>
      `| ${run.format === 'webp' ? 'WebP (protocol only)' : 'PNG (encoded to WebP here)'} | ${run.threads} | ` +
      `${Math.round(rate(run)).toLocaleString('en-US')} | ${f2(perJobMs(run))} | ` +
      `${f2(run.callMs.pop)} / ${f2(run.callMs.upload)} / ${f2(run.callMs.submit)} | ` +
      `${run.workerCpuUs.toLocaleString('en-US')} | ${run.serverCpuUs.toLocaleString('en-US')} | ${pct(run.serverBusy)} |`,
  ),
];

const webp1 = byKey('webp', 1);
const webp4 = byKey('webp', 4);
const png1 = byKey('png', 1);
const png4 = byKey('png', 4);
const workerBusy = (run: RunFigures) => (run.workerCpuUs * rate(run)) / 1e6;
/** Which side limits the protocol-only rate, from this run's figures. */
function webpBound(run: RunFigures): string {
  const worker = workerBusy(run);
  const server = run.serverBusy;
  if (Math.max(worker, server) < 0.85) {
    return (
      `With WebPs neither core is full (the worker's ${pct(worker)}, the server's ${pct(server)}): each thread ` +
      'waits on three sequential round trips, which four threads overlap only partly.'
    );
  }
  const [busy, other] = worker >= server ? ['worker', 'server'] : ['server', 'worker'];
  return (
    `With WebPs the ${busy}'s core is the bound (the worker's ${pct(worker)}, the server's ${pct(server)}): ` +
    `more threads would wait on it, not on the ${other}.`
  );
}
const section = `${HEADING}

Recorded ${info.date} UTC on ${info.summary}. ${SECONDS} s per run after ${WARMUP_SECONDS} s of warm-up; the
server (file SQLite, SQLite image store, rate limits off, ${PREFILL.toLocaleString('en-US')} requests queued
beforehand) in a child process, the worker in the bench process: one core each. The backend is instant and
returns the same finished 512×512 image, so every millisecond here is the worker and the horde. Call times are
measured from the worker's side (they include the server's work and the loopback round trip).

${table.join('\n')}

**Overhead per job.** With one thread a job costs ${f2(perJobMs(webp1))} ms of wall time when the backend hands
over a WebP: a pop, a PUT of the image and a submit, ${f2(webp1.callMs.pop + webp1.callMs.upload + webp1.callMs.submit)} ms
of it in the three HTTP calls, the rest the worker's own work between them. The worker's CPU per job is
${webp1.workerCpuUs.toLocaleString('en-US')} µs. A CPU profile of the bench process (\`node --cpu-prof --import tsx
--conditions=@hordekit/source bench/worker.ts\`, 2026-11-26) put most of it in Node's built-in \`fetch\` (undici with
its WHATWG streams, abort signals and socket writes) and garbage collection, and under a tenth in our own code (the
zod checks of the pop answer, JSON). Handing over a PNG, as AUTOMATIC1111 does,
adds the WebP encoding at quality 95 (sharp/libvips, off the main thread): ${f2(perJobMs(png1))} ms per job and
${png1.workerCpuUs.toLocaleString('en-US')} µs of worker CPU. Against a real backend that takes seconds per image either is
noise: a 512×512, 30-step SD 1.5 image takes about 2–4 s on a consumer GPU.

**Jobs per second with \`threads: 4\`.** ${Math.round(rate(webp4)).toLocaleString('en-US')} jobs/s (WebP) and
${Math.round(rate(png4)).toLocaleString('en-US')} jobs/s (PNG), against ${Math.round(rate(webp1)).toLocaleString('en-US')} and
${Math.round(rate(png1)).toLocaleString('en-US')} with one thread. ${webpBound(webp4)} With
PNGs the encoding bounds the rate: libvips encodes on threads of its own, and the worker's ${pct(workerBusy(png4))} of a core
plus the server's ${pct(png4.serverBusy)} nearly fill the machine's two cores. Server CPU per job includes the horde's fixed background work (queue positions of
the ${PREFILL.toLocaleString('en-US')} waiting requests each second), which is why it is higher at the lower rates.
`;

const path = replaceSection(join(root, 'docs', 'benchmarks.md'), HEADING, section);
execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', path], {
  cwd: root,
  stdio: 'ignore',
});
process.stdout.write(`${table.join('\n')}\n\nwritten to ${path}\n`);
