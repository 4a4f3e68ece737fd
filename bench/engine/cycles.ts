/**
 * Full cycles through the engine's verbs: `generateImage` → `popImage` → `submitImage`, each committed to
 * SQLite (WAL, `synchronous=NORMAL`) before its promise resolves.
 *
 * Throughput: several requester/worker pairs run concurrently on one event loop, as HTTP requests would (a
 * pop takes the oldest waiting request, whoever queued it). Latency: one pair alone, so each verb's time
 * is its own service time and not the wait behind the other pairs. CPU time per cycle is reported too: on a
 * shared machine it is steadier than wall time.
 *
 * `--plain` turns off the driver's group commit and background checkpoints (every operation commits on its
 * own and checkpoints run inside calls), to show what they buy; `--pairs=N` sets the number of pairs.
 * `BENCH_WARMUP_MS`, `BENCH_MEASURE_MS` and `BENCH_LATENCY_MS` override the defaults below.
 *
 *   node --import tsx --conditions=@hordekit/source --expose-gc bench/engine/cycles.ts [--plain] [--pairs=N]
 */
import { statSync } from 'node:fs';
import type { SqliteStore } from '@hordekit/core/sqlite';
import { imagePop, imageRequest, MODELS, openHorde, registerMany, tempDatabase } from './fixtures.js';
import { distribution, emitResult, nowUs, timeStoreCalls } from './measure.js';

const pairsArg = process.argv.find((arg) => arg.startsWith('--pairs='));
const PAIRS = Number(pairsArg?.split('=')[1] ?? 4);
const PLAIN = process.argv.includes('--plain');
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 2000);
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 5000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 2000);
/** Workers serve a handful of models, as a typical reGen worker does; requests name one of them. */
const SERVED = MODELS.slice(0, 5);

const db = tempDatabase('cycles');
const horde = await openHorde(db.path, PLAIN ? { groupCommit: false, backgroundCheckpoints: false } : {});
const requesters = await registerMany(horde, 'requester', PAIRS);
const owners = await registerMany(horde, 'worker-owner', PAIRS);

interface Run {
  generate: number[];
  pop: number[];
  submit: number[];
  cycles: number;
  /** Pops that found nothing although requests were queued: another pair claimed them between scan and claim. */
  emptyPops: number;
  firstEmptyPop: unknown;
}

const newRun = (): Run => ({
  generate: [],
  pop: [],
  submit: [],
  cycles: 0,
  emptyPops: 0,
  firstEmptyPop: null,
});
let counter = 0;

async function runPair(pair: number, until: number, run: Run, limit = Number.POSITIVE_INFINITY) {
  const requester = { apiKey: requesters[pair]! };
  const owner = { apiKey: owners[pair]! };
  const pop = imagePop(`bench-worker-${pair}`, SERVED);
  const stop = run.cycles + limit;
  while (Date.now() < until && run.cycles < stop) {
    const i = counter++;
    const t0 = nowUs();
    await horde.generateImage(requester, imageRequest(i, SERVED[i % SERVED.length]!));
    const t1 = nowUs();
    const popped = await horde.popImage(owner, pop);
    const t2 = nowUs();
    if (!popped.job) {
      if (run.emptyPops++ === 0) run.firstEmptyPop = popped;
      continue;
    }
    await horde.submitImage(owner, { id: popped.job.id, generation: 'R2', seed: 42, state: 'ok' });
    const t3 = nowUs();
    run.generate.push(t1 - t0);
    run.pop.push(t2 - t1);
    run.submit.push(t3 - t2);
    run.cycles++;
  }
}

async function runPairs(pairs: number, ms: number) {
  const run = newRun();
  const cpu = process.cpuUsage();
  const start = nowUs();
  const until = Date.now() + ms;
  await Promise.all(Array.from({ length: pairs }, (_, pair) => runPair(pair, until, run)));
  const seconds = (nowUs() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { run, seconds, cpuUs: used.user + used.system };
}

/**
 * (`--plain` only.) Pages each cycle writes to the write-ahead log, and what checkpointing them costs. Automatic checkpoints
 * are paused; each round empties the log, runs one checkpoint interval's worth of cycles, then times the
 * checkpoint that SQLite would have run (PASSIVE, as automatic checkpoints are). Restores the setting.
 */
async function logWrites(rounds = 5) {
  const database = (horde.store as SqliteStore).database;
  const interval = database.pragma('wal_autocheckpoint', { simple: true }) as number;
  const frameBytes = 24 + (database.pragma('page_size', { simple: true }) as number);
  database.pragma('wal_autocheckpoint = 0');
  let cycles = 0;
  let pages = 0;
  let checkpointUs = 0;
  let perRound = Math.ceil(interval / 20);
  for (let round = 0; round < rounds; round++) {
    database.pragma('wal_checkpoint(TRUNCATE)');
    const run = newRun();
    await runPair(0, Number.POSITIVE_INFINITY, run, perRound);
    const roundPages = (statSync(`${db.path}-wal`).size - 32) / frameBytes;
    const start = nowUs();
    database.pragma('wal_checkpoint(PASSIVE)');
    checkpointUs += nowUs() - start;
    cycles += run.cycles;
    pages += roundPages;
    perRound = Math.max(1, Math.round(interval / (pages / cycles)));
  }
  database.pragma(`wal_autocheckpoint = ${interval}`);
  return {
    pagesPerCycle: pages / cycles,
    checkpointPages: interval,
    checkpointUsPerCycle: checkpointUs / cycles,
  };
}

await runPairs(PAIRS, WARMUP_MS);
const throughput = await runPairs(PAIRS, MEASURE_MS);
const latency = await runPairs(1, LATENCY_MS);
// Where a cycle's time goes: inside the store (SQLite and the driver) or in the engine around it.
const timer = timeStoreCalls(horde.store);
const breakdown = await runPairs(1, LATENCY_MS);
timer.stop();
const cycleUs = (breakdown.seconds * 1e6) / breakdown.run.cycles;
const storeUs = timer.times.us / breakdown.run.cycles;
// Log pages are only countable when no background thread checkpoints the log meanwhile.
const log = PLAIN ? await logWrites() : null;
const waiting = (await horde.store.queueSummary('image')).requests;
const totals = await horde.store.ledgerTotals();
await horde.close();
db.remove();

emitResult({
  pairs: PAIRS,
  seconds: throughput.seconds,
  cycles: throughput.run.cycles,
  cyclesPerSecond: throughput.run.cycles / throughput.seconds,
  cpuUsPerCycle: throughput.cpuUs / throughput.run.cycles,
  emptyPops: throughput.run.emptyPops + latency.run.emptyPops,
  firstEmptyPop: throughput.run.firstEmptyPop ?? latency.run.firstEmptyPop,
  waitingAtEnd: waiting,
  ledgerBalances: totals.balances + totals.escrow === totals.minted - totals.burnt,
  /** Mean time per cycle, one pair alone, and the part of it spent in store calls. */
  breakdown: {
    cycleUs,
    storeUs,
    engineUs: cycleUs - storeUs,
    storeCallsPerCycle: timer.times.calls / breakdown.run.cycles,
  },
  log,
  /** Per-verb service time, one pair alone. */
  generate: distribution(latency.run.generate),
  pop: distribution(latency.run.pop),
  submit: distribution(latency.run.submit),
  /** Per-verb time with all pairs running: includes the wait behind the other pairs' calls. */
  loaded: {
    generate: distribution(throughput.run.generate),
    pop: distribution(throughput.run.pop),
    submit: distribution(throughput.run.submit),
  },
});
