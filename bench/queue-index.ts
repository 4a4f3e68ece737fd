/**
 * Micro-benchmark of the queue index alone (no engine, no SQLite) at the size the SQLite driver must
 * handle: 100,000 waiting image requests over 50 models (one model each) and six needs/size combinations,
 * so 300 partitions. `npm run bench:engine` measures the same operations through the engine.
 *
 *   npx tsx --conditions=@hordekit/source bench/queue-index.ts
 */
import {
  ALL_NEEDS,
  type CandidateQuery,
  Need,
  QueueIndex,
  type RequestBody,
  type RequestRecord,
} from '@hordekit/core';

const REQUESTS = 100_000;
const MODELS = 50;
const SAMPLES = 20_000;
const NEEDS = [0, Need.nsfw, Need.lora];
const PIXELS = [512 * 512, 1024 * 1024];

function makeRequest(i: number): RequestRecord {
  return {
    id: `req-${i}`,
    kind: 'image',
    accountId: 1 + (i % 1000),
    body: {} as RequestBody,
    things: 512 * 512 * 30,
    jobPrice: 100,
    priority: 0,
    // Balances repeat, so the FIFO tie-break matters as in real queues.
    sortKey: Math.floor(Math.random() * 10_000),
    seq: i,
    jobs: 4,
    waiting: 1 + (i % 4),
    processing: 0,
    finished: 0,
    faults: 0,
    state: 'active',
    createdAt: 0,
    expiresAt: 0,
    consumed: 0,
    reserved: 0,
    meta: {},
    models: [`model-${i % MODELS}`],
    needs: NEEDS[i % NEEDS.length]!,
    pixels: PIXELS[Math.floor(i / 7) % PIXELS.length]!,
    maxLength: 0,
    maxContextLength: 0,
  };
}

let sink = 0;

/** Median and p99 of single calls, in microseconds, after a warm-up. */
function measure(label: string, run: (i: number) => number): void {
  for (let i = 0; i < 2_000; i++) sink += run(i);
  const times = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    sink += run(i);
    times[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  times.sort();
  const median = times[Math.floor(SAMPLES / 2)]!.toFixed(2);
  const p99 = times[Math.floor(SAMPLES * 0.99)]!.toFixed(2);
  console.log(`${label.padEnd(58)} median ${median.padStart(8)} µs   p99 ${p99.padStart(8)} µs`);
}

const records = Array.from({ length: REQUESTS }, (_, i) => makeRequest(i));
const index = new QueueIndex();
const start = process.hrtime.bigint();
for (const record of records) index.sync(record);
const insertMs = Number(process.hrtime.bigint() - start) / 1e6;
console.log(
  `${REQUESTS} inserts: ${insertMs.toFixed(0)} ms (${((insertMs * 1000) / REQUESTS).toFixed(2)} µs each)`,
);

const worker: CandidateQuery = {
  kind: 'image',
  models: ['other-model-1', 'other-model-2'],
  acceptsAnyModel: true,
  offers: ALL_NEEDS,
  maxPixels: 1024 * 1024,
  maxLength: 0,
  maxContextLength: 0,
  limit: 20,
  countSkips: false,
};
const matching: CandidateQuery = { ...worker, models: ['model-7'] };
const everything: CandidateQuery = {
  ...worker,
  models: Array.from({ length: MODELS }, (_, i) => `model-${i}`),
};

measure('candidates, no match', () => index.candidates(worker).candidates.length);
measure(
  'candidates, no match, countSkips',
  () => index.candidates({ ...worker, countSkips: true }).candidates.length,
);
measure('candidates, 1 model (6 partitions), limit 20', () => index.candidates(matching).candidates.length);
measure('candidates, 1 model, limit 20, countSkips', () => {
  return index.candidates({ ...matching, countSkips: true }).candidates.length;
});
const middle = index.candidates({ ...matching, limit: 1000 }).next!;
measure('candidates, 1 model, limit 20, after a cursor', () => {
  return index.candidates({ ...matching, after: middle }).candidates.length;
});
measure(
  'candidates, 50 models (300 partitions), limit 20',
  () => index.candidates(everything).candidates.length,
);

// A request near the middle of the queue.
const ranked = records.map((record) => ({ id: record.id, position: index.position(record.id)!.position }));
const mid = ranked.find((entry) => Math.abs(entry.position - REQUESTS / 2) < 50)!;
measure(`position() at rank ${mid.position}`, () => index.position(mid.id)!.position);

// Claiming a job and giving it back: two reweighs.
const claimed = records[REQUESTS / 2]!;
measure('sync() after waiting changes', () => {
  claimed.waiting += 1;
  index.sync(claimed);
  claimed.waiting -= 1;
  index.sync(claimed);
  return claimed.waiting;
});

if (sink === -1) console.log(sink);
