/**
 * A long queue: 100,000 waiting image requests (200-character prompts, 50 models, 10 requesters) enqueued
 * through `generateImage` into a fresh file-backed store, then:
 *
 * - memory: RSS and heap after a full GC, minus the same figures taken before the first enqueue;
 * - a pop that matches nothing, from a worker serving a 51st model and from one serving one of the 50 whose
 *   `max_pixels` is too small for every request: the full `popImage` verb, and the store's
 *   `findCandidates` calls that pop made, replayed alone; and from a worker whose owner is one of the
 *   requesters, with 10,000 requests of its own queued (a pop scans its owner's requests first);
 * - the queue position of the request near position 50,000: `checkRequest` (which adds the wait estimate
 *   and `is_possible`) and `store.queuePosition` alone.
 *
 * Leaves the database in place and prints its path, for the start-up scenario.
 *
 *   node --import tsx --conditions=@hordekit/source --expose-gc bench/engine/queue.ts
 */
import { statSync } from 'node:fs';
import type { CandidateQuery, HordeStore } from '@hordekit/core';
import {
  imagePop,
  imageRequest,
  MODELS,
  openHorde,
  registerMany,
  tempDatabase,
  UNREQUESTED_MODEL,
} from './fixtures.js';
import { distribution, emitResult, memoryDelta, memoryNow, nowUs, timeCalls } from './measure.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);
const REQUESTERS = 10;
/** Enough calls for the optimizing compiler to settle: a busy horde pops all the time. */
const POPS = 20_000;
const POP_WARMUP = 5000;
const POSITION_CHECKS = 20_000;

/** The `findCandidates` queries one pop makes, recorded by wrapping the store's method for that pop only. */
async function candidateQueriesOf(store: HordeStore, pop: () => Promise<unknown>): Promise<CandidateQuery[]> {
  const original = store.findCandidates;
  const queries: CandidateQuery[] = [];
  store.findCandidates = (query) => {
    queries.push(query);
    return original(query);
  };
  try {
    await pop();
  } finally {
    store.findCandidates = original;
  }
  return queries;
}

const db = tempDatabase('queue');
const horde = await openHorde(db.path);
const requesters = await registerMany(horde, 'requester', REQUESTERS);
const [otherModelOwner, tooSmallOwner] = await registerMany(horde, 'worker-owner', 2);
const enqueueTimes = new Float64Array(REQUESTS);
const ids = new Array<string>(REQUESTS);
const before = memoryNow();

// 1. Enqueue
const enqueueStart = nowUs();
for (let i = 0; i < REQUESTS; i++) {
  const start = nowUs();
  const { id } = await horde.generateImage(
    { apiKey: requesters[i % REQUESTERS]! },
    imageRequest(i, MODELS[i % MODELS.length]!),
  );
  enqueueTimes[i] = nowUs() - start;
  ids[i] = id!;
}
const enqueueSeconds = (nowUs() - enqueueStart) / 1e6;
const after = memoryNow();
const summary = await horde.store.queueSummary('image');

// 2. Pops that match nothing
async function noMatchPop(owner: string, body: ReturnType<typeof imagePop>) {
  const credentials = { apiKey: owner };
  const first = await horde.popImage(credentials, body);
  const replay = await candidateQueriesOf(horde.store, () => horde.popImage(credentials, body));
  const verb = await timeCalls(POPS, () => horde.popImage(credentials, body), POP_WARMUP);
  const store = await timeCalls(
    POPS,
    async () => {
      for (const query of replay) await horde.store.findCandidates(query);
    },
    POP_WARMUP,
  );
  return { job: first.job, skipped: first.skipped, storeCallsPerPop: replay.length, verb, store };
}
const otherModel = await noMatchPop(otherModelOwner!, imagePop('bench-other-model', [UNREQUESTED_MODEL]));
const tooSmall = await noMatchPop(
  tooSmallOwner!,
  imagePop('bench-too-small', [MODELS[7]!], { max_pixels: 256 * 256 }),
);
const ownQueue = await noMatchPop(requesters[0]!, imagePop('bench-requester-worker', [UNREQUESTED_MODEL]));

// 3. Queue position near the middle
const middleId = ids[Math.floor(REQUESTS / 2) - 1]!;
const position = (await horde.store.queuePosition(middleId))!.position;
const check = await timeCalls(POSITION_CHECKS, () => horde.checkRequest(middleId), POP_WARMUP);
const storePosition = await timeCalls(POSITION_CHECKS, () => horde.store.queuePosition(middleId), POP_WARMUP);
const checked = await horde.checkRequest(middleId);
const onlineWorkers = (await horde.listWorkers('image')).length;

await horde.close();
emitResult({
  database: db.path,
  databaseMb: statSync(db.path).size / 2 ** 20,
  requests: REQUESTS,
  waiting: summary.requests,
  enqueue: { seconds: enqueueSeconds, perSecond: REQUESTS / enqueueSeconds, ...distribution(enqueueTimes) },
  memory: { before, after, delta: memoryDelta(after, before) },
  noMatchOtherModel: otherModel,
  noMatchTooSmall: tooSmall,
  noMatchOwnQueue: { ...ownQueue, ownRequests: REQUESTS / REQUESTERS },
  position: { id: middleId, position, check, store: storePosition, checked, onlineWorkers },
});
