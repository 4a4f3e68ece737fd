/**
 * Full cycles through the engine's verbs: `generateImage` → `popImage` → `submitImage`, each committed to
 * SQLite (WAL, `synchronous=NORMAL`) before its promise resolves. Several requester/worker pairs run
 * concurrently on one event loop, as HTTP requests would; a pop takes the oldest waiting request, whoever
 * queued it. Prints cycles per second and per-verb latency.
 *
 *   node --import tsx --conditions=@hordekit/source bench/engine/cycles.ts
 */
import { distribution, emitResult, nowUs } from './measure.js';
import { imagePop, imageRequest, MODELS, openHorde, registerMany, tempDatabase } from './fixtures.js';

const PAIRS = 4;
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 2000);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 5000);
/** Workers serve a handful of models, as a typical reGen worker does; requests name one of them. */
const SERVED = MODELS.slice(0, 5);

const db = tempDatabase('cycles');
const horde = await openHorde(db.path);
const requesters = await registerMany(horde, 'requester', PAIRS);
const owners = await registerMany(horde, 'worker-owner', PAIRS);

interface Timings {
  generate: number[];
  pop: number[];
  submit: number[];
  cycles: number;
  emptyPops: number;
}

let counter = 0;

async function runPair(pair: number, until: number, timings: Timings | null): Promise<void> {
  const requester = { apiKey: requesters[pair]! };
  const owner = { apiKey: owners[pair]! };
  const pop = imagePop(`bench-worker-${pair}`, SERVED);
  while (Date.now() < until) {
    const i = counter++;
    const t0 = nowUs();
    await horde.generateImage(requester, imageRequest(i, SERVED[i % SERVED.length]!));
    const t1 = nowUs();
    const popped = await horde.popImage(owner, pop);
    const t2 = nowUs();
    if (!popped.job) {
      if (timings) timings.emptyPops++;
      if (process.env.BENCH_DEBUG && timings?.emptyPops === 1) console.error(JSON.stringify(popped));
      continue;
    }
    await horde.submitImage(owner, { id: popped.job.id, generation: 'R2', seed: 42, state: 'ok' });
    const t3 = nowUs();
    if (timings) {
      timings.generate.push(t1 - t0);
      timings.pop.push(t2 - t1);
      timings.submit.push(t3 - t2);
      timings.cycles++;
    }
  }
}

async function runAll(ms: number, timings: Timings | null): Promise<number> {
  const start = nowUs();
  const until = Date.now() + ms;
  await Promise.all(Array.from({ length: PAIRS }, (_, pair) => runPair(pair, until, timings)));
  return (nowUs() - start) / 1e6;
}

await runAll(WARMUP_MS, null);
const timings: Timings = { generate: [], pop: [], submit: [], cycles: 0, emptyPops: 0 };
const seconds = await runAll(MEASURE_MS, timings);
const summary = await horde.store.queueSummary('image');
const totals = await horde.store.ledgerTotals();
await horde.close();
db.remove();

emitResult({
  pairs: PAIRS,
  seconds,
  cycles: timings.cycles,
  cyclesPerSecond: timings.cycles / seconds,
  emptyPops: timings.emptyPops,
  waitingAtEnd: summary.requests,
  ledgerBalances: totals.balances + totals.escrow === totals.minted - totals.burnt,
  generate: distribution(timings.generate),
  pop: distribution(timings.pop),
  submit: distribution(timings.submit),
});
