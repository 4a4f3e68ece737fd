import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  CandidateCursor,
  CandidatePage,
  CandidateQuery,
  QueueSummary,
  RequestBody,
  RequestKind,
  RequestRecord,
  SkipCounts,
  SkipReason,
} from '../storage/types.js';
import { compareQueueOrder, QueueIndex } from './queue-index.js';
import { ALL_NEEDS, missingNeedReason, Need } from './requirements.js';

const SMALL = 512 * 512;
const LARGE = 1024 * 1024;

let nextSeq = 1;

/** A waiting single-job image request for model `m`, unless overridden. */
function request(overrides: Partial<RequestRecord> = {}): RequestRecord {
  const seq = overrides.seq ?? nextSeq++;
  return {
    id: `r${seq}`,
    kind: 'image',
    accountId: 1,
    body: {} as RequestBody,
    things: 10,
    jobPrice: 0,
    priority: 0,
    sortKey: 0,
    seq,
    jobs: 1,
    waiting: 1,
    processing: 0,
    finished: 0,
    faults: 0,
    state: 'active',
    createdAt: 0,
    expiresAt: 0,
    consumed: 0,
    reserved: 0,
    meta: {},
    models: ['m'],
    needs: 0,
    pixels: SMALL,
    maxLength: 0,
    maxContextLength: 0,
    ...overrides,
  };
}

function query(overrides: Partial<CandidateQuery> = {}): CandidateQuery {
  return {
    kind: 'image',
    models: ['m'],
    acceptsAnyModel: false,
    offers: 0,
    maxPixels: LARGE,
    maxLength: 512,
    maxContextLength: 4096,
    limit: 100,
    countSkips: false,
    ...overrides,
  };
}

function indexOf(...records: RequestRecord[]): QueueIndex {
  const index = new QueueIndex();
  for (const record of records) index.sync(record);
  return index;
}

const ids = (page: CandidatePage) => page.candidates.map((record) => record.id);

describe('QueueIndex examples', () => {
  it('orders by sortKey descending, then FIFO', () => {
    const low = request({ sortKey: 1, seq: 10 });
    const early = request({ sortKey: 5, seq: 20 });
    const late = request({ sortKey: 5, seq: 30 });
    const index = indexOf(late, low, early);
    expect(ids(index.candidates(query()))).toEqual([early.id, late.id, low.id]);
    expect(index.position(late.id)?.position).toBe(2);
  });

  it('pages with cursors', () => {
    const records = [1, 2, 3, 4, 5].map((seq) => request({ seq, models: seq % 2 ? ['m'] : ['n'] }));
    const index = indexOf(...records);
    const first = index.candidates(query({ models: ['m', 'n'], limit: 2 }));
    expect(ids(first)).toEqual(['r1', 'r2']);
    expect(first.next).toEqual({ sortKey: 0, seq: 2 });
    const second = index.candidates(query({ models: ['m', 'n'], limit: 3, after: first.next! }));
    expect(ids(second)).toEqual(['r3', 'r4', 'r5']);
    expect(second.next).toBeNull();
  });

  it('restricts to the given owners', () => {
    const mine = request({ accountId: 7, sortKey: 1 });
    const other = request({ accountId: 8, sortKey: 9 });
    const mineTooBig = request({ accountId: 7, pixels: 4 * LARGE });
    const index = indexOf(mine, other, mineTooBig);
    const page = index.candidates(query({ ownerIds: [7], countSkips: true }));
    expect(ids(page)).toEqual([mine.id]);
    expect(page.skipped).toEqual({ max_pixels: 1 });
  });

  it('gives any-model requests only to workers that accept them', () => {
    const anyModel = request({ models: [] });
    const index = indexOf(anyModel);
    expect(ids(index.candidates(query({ models: ['x'], acceptsAnyModel: true })))).toEqual([anyModel.id]);
    const refused = index.candidates(query({ models: ['x'], countSkips: true }));
    expect(ids(refused)).toEqual([]);
    expect(refused.skipped).toEqual({ models: 1 });
    expect(index.summary('image').models).toEqual([{ model: '', requests: 1, jobs: 1, things: 10 }]);
  });

  it('counts a multi-model request once, and under each of its models in the summary', () => {
    const both = request({ models: ['b', 'a', 'b'], waiting: 2 });
    const index = indexOf(both);
    expect(ids(index.candidates(query({ models: ['a', 'b'] })))).toEqual([both.id]);
    expect(index.candidates(query({ models: ['z'], countSkips: true })).skipped).toEqual({ models: 1 });
    expect(index.summary('image')).toEqual({
      kind: 'image',
      requests: 1,
      jobs: 2,
      things: 20,
      models: [
        { model: 'a', requests: 1, jobs: 2, things: 20 },
        { model: 'b', requests: 1, jobs: 2, things: 20 },
      ],
    });
  });

  it('drops a request when nothing of it waits any more', () => {
    const record = request({ waiting: 1 });
    const index = indexOf(record);
    record.waiting = 0;
    record.processing = 1;
    index.sync(record);
    expect(index.has(record.id)).toBe(false);
    expect(index.position(record.id)).toBeUndefined();
    expect(index.size('image')).toBe(0);
    expect(index.summary('image')).toEqual({ kind: 'image', requests: 0, jobs: 0, things: 0, models: [] });
    expect(ids(index.candidates(query({ countSkips: true })))).toEqual([]);
  });

  it('reweighs when waiting changes', () => {
    const ahead = request({ sortKey: 2, waiting: 3, things: 5 });
    const behind = request({ sortKey: 1, waiting: 1, things: 7 });
    const index = indexOf(ahead, behind);
    expect(index.position(behind.id)).toEqual({ position: 2, jobsAhead: 4, thingsAhead: 22 });
    ahead.waiting = 1;
    index.sync(ahead);
    expect(index.position(behind.id)).toEqual({ position: 2, jobsAhead: 2, thingsAhead: 12 });
    expect(index.summary('image').jobs).toBe(2);
  });

  it('reports the first failing check as the skip reason', () => {
    const index = indexOf(
      request({ models: ['x'], pixels: 4 * LARGE, needs: Need.nsfw }),
      request({ pixels: 4 * LARGE, needs: Need.nsfw }),
      request({ needs: Need.nsfw | Need.lora }),
      request({ kind: 'text', models: ['t'], pixels: 0, maxLength: 1024, maxContextLength: 8192 }),
      request({ kind: 'text', models: ['t'], pixels: 0, maxLength: 256, maxContextLength: 8192 }),
    );
    expect(index.candidates(query({ countSkips: true })).skipped).toEqual({
      models: 1,
      max_pixels: 1,
      nsfw: 1,
    });
    const text = query({ kind: 'text', models: ['t'], countSkips: true });
    expect(index.candidates(text).skipped).toEqual({ max_length: 1, max_context_length: 1 });
  });

  it('rejects two waiting requests with the same order key', () => {
    const index = indexOf(request({ seq: 1000 }));
    expect(() => index.sync(request({ id: 'other', seq: 1000 }))).toThrow(/order key/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property tests against a brute-force model

const MODELS = ['a', 'b', 'c', 'd'];
const NEED_BITS = [Need.nsfw, Need.trusted, Need.img2img, Need.lora, Need.validatedBackend];
const offersArb = fc.subarray(NEED_BITS).map((bits) => bits.reduce((mask, bit) => mask | bit, 0));
// Few distinct requirement sets, so partitions hold several requests.
const needsArb = fc.constantFrom(0, 0, Need.nsfw, Need.lora, Need.nsfw | Need.lora, Need.validatedBackend);
const modelsArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant<string[]>([]) },
  { weight: 4, arbitrary: fc.constantFrom(...MODELS).map((model) => [model]) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...MODELS), { maxLength: 3 }) },
);

const requestArb = fc.record({
  kind: fc.constantFrom<RequestKind>('image', 'text'),
  models: modelsArb,
  needs: needsArb,
  pixels: fc.constantFrom(SMALL, LARGE),
  maxLength: fc.constantFrom(80, 512),
  maxContextLength: fc.constantFrom(1024, 4096),
  sortKey: fc.integer({ min: 0, max: 4 }),
  seqSeed: fc.integer({ min: 0, max: 50 }),
  waiting: fc.integer({ min: 0, max: 3 }),
  state: fc.constantFrom<RequestRecord['state']>('active', 'active', 'active', 'done'),
  things: fc.integer({ min: 1, max: 20 }),
  accountId: fc.integer({ min: 1, max: 3 }),
});

const updateArb = fc.record({
  target: fc.nat(),
  waiting: fc.integer({ min: 0, max: 3 }),
  state: fc.constantFrom<RequestRecord['state']>('active', 'active', 'cancelled'),
  action: fc.constantFrom('sync', 'sync', 'reload', 'remove'),
});

const queryArb = fc.record({
  kind: fc.constantFrom<RequestKind>('image', 'text'),
  models: fc.subarray([...MODELS, 'z']),
  acceptsAnyModel: fc.boolean(),
  offers: offersArb,
  maxPixels: fc.constantFrom(SMALL, LARGE),
  maxLength: fc.constantFrom(80, 512),
  maxContextLength: fc.constantFrom(1024, 4096),
  ownerIds: fc.option(fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), { nil: undefined }),
  after: fc.option(fc.record({ sortKey: fc.integer({ min: -1, max: 5 }), seq: fc.nat(5100) }), {
    nil: undefined,
  }),
  limit: fc.integer({ min: 1, max: 5 }),
  countSkips: fc.boolean(),
});

type ValueOf<A> = A extends fc.Arbitrary<infer V> ? V : never;

/** Builds the driver's view (id → current record object) and the index, syncing after every change. */
function build(specs: ValueOf<typeof requestArb>[], updates: ValueOf<typeof updateArb>[]) {
  const records = new Map<string, RequestRecord>();
  const index = new QueueIndex();
  specs.forEach(({ seqSeed, ...spec }, i) => {
    const seq = seqSeed * 100 + i;
    const text = spec.kind === 'text';
    const record = request({
      ...spec,
      id: `q${i}`,
      seq,
      pixels: text ? 0 : spec.pixels,
      maxLength: text ? spec.maxLength : 0,
      maxContextLength: text ? spec.maxContextLength : 0,
    });
    records.set(record.id, record);
    index.sync(record);
  });
  const all = [...records.keys()];
  for (const update of updates) {
    if (all.length === 0) break;
    const id = all[update.target % all.length]!;
    const record = records.get(id)!;
    if (update.action === 'remove') {
      // The driver removes a request it deleted; model it as no longer waiting.
      index.remove(id);
      record.state = 'done';
      continue;
    }
    const next = update.action === 'reload' ? { ...record } : record;
    next.waiting = update.waiting;
    next.state = update.state;
    records.set(id, next);
    index.sync(next);
  }
  return { index, records: [...records.values()] };
}

const waits = (record: RequestRecord) => record.state === 'active' && record.waiting > 0;

function expectedReason(record: RequestRecord, q: CandidateQuery): SkipReason | null {
  const modelsMatch =
    record.models.length === 0 ? q.acceptsAnyModel : record.models.some((model) => q.models.includes(model));
  if (!modelsMatch) return 'models';
  if (q.kind === 'image' && record.pixels > q.maxPixels) return 'max_pixels';
  if (q.kind === 'text' && record.maxLength > q.maxLength) return 'max_length';
  if (q.kind === 'text' && record.maxContextLength > q.maxContextLength) return 'max_context_length';
  return missingNeedReason(record.needs, q.offers);
}

function expectedSummary(records: RequestRecord[], kind: RequestKind): QueueSummary {
  const queued = records.filter((record) => waits(record) && record.kind === kind);
  const models = new Map<string, { model: string; requests: number; jobs: number; things: number }>();
  for (const record of queued) {
    const names = record.models.length > 0 ? new Set(record.models) : [''];
    for (const model of names) {
      const counter = models.get(model) ?? { model, requests: 0, jobs: 0, things: 0 };
      counter.requests += 1;
      counter.jobs += record.waiting;
      counter.things += record.things * record.waiting;
      models.set(model, counter);
    }
  }
  return {
    kind,
    requests: queued.length,
    jobs: queued.reduce((sum, record) => sum + record.waiting, 0),
    things: queued.reduce((sum, record) => sum + record.things * record.waiting, 0),
    models: [...models.values()].sort((a, b) => (a.model < b.model ? -1 : 1)),
  };
}

describe('QueueIndex against a brute-force model', () => {
  const scenario = {
    specs: fc.array(requestArb, { maxLength: 60 }),
    updates: fc.array(updateArb, { maxLength: 30 }),
  };

  it('pages through the same candidates and skip counts', () => {
    fc.assert(
      fc.property(scenario.specs, scenario.updates, queryArb, (specs, updates, q) => {
        const { index, records } = build(specs, updates);
        const owners = q.ownerIds && new Set(q.ownerIds);
        const considered = records.filter(
          (record) => waits(record) && record.kind === q.kind && (!owners || owners.has(record.accountId)),
        );
        const skipped: SkipCounts = {};
        for (const record of considered) {
          const reason = expectedReason(record, q);
          if (reason && q.countSkips) skipped[reason] = (skipped[reason] ?? 0) + 1;
        }
        const expected = considered
          .filter((record) => expectedReason(record, q) === null)
          .filter((record) => !q.after || compareQueueOrder(record, q.after) > 0)
          .sort(compareQueueOrder)
          .map((record) => record.id);

        const seen: string[] = [];
        let after: CandidateCursor | undefined = q.after;
        for (let pages = 0; pages <= expected.length; pages++) {
          const page = index.candidates({ ...q, after });
          expect(page.skipped).toEqual(skipped);
          expect(page.candidates.length).toBeLessThanOrEqual(q.limit);
          seen.push(...ids(page));
          if (!page.next) break;
          expect(page.candidates.length).toBe(q.limit);
          const last = page.candidates.at(-1)!;
          expect(page.next).toEqual({ sortKey: last.sortKey, seq: last.seq });
          after = page.next;
        }
        expect(seen).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('merges many partitions in queue order', () => {
    const diverse = fc.array(
      requestArb.chain((spec) => offersArb.map((needs) => ({ ...spec, needs }))),
      {
        maxLength: 150,
      },
    );
    const takeAll = query({ models: MODELS, acceptsAnyModel: true, offers: ALL_NEEDS, limit: 1000 });
    fc.assert(
      fc.property(diverse, fc.constantFrom<RequestKind>('image', 'text'), (specs, kind) => {
        const { index, records } = build(specs, []);
        const expected = records
          .filter((record) => waits(record) && record.kind === kind)
          .sort(compareQueueOrder);
        expect(ids(index.candidates({ ...takeAll, kind }))).toEqual(expected.map((record) => record.id));
      }),
      { numRuns: 200 },
    );
  });

  it('reports the same positions, sizes and summaries', () => {
    fc.assert(
      fc.property(scenario.specs, scenario.updates, (specs, updates) => {
        const { index, records } = build(specs, updates);
        for (const kind of ['image', 'text'] as const) {
          const queued = records
            .filter((record) => waits(record) && record.kind === kind)
            .sort(compareQueueOrder);
          expect(index.size(kind)).toBe(queued.length);
          expect(index.summary(kind)).toEqual(expectedSummary(records, kind));
          let jobsAhead = 0;
          let thingsAhead = 0;
          queued.forEach((record, i) => {
            jobsAhead += record.waiting;
            thingsAhead += record.things * record.waiting;
            expect(index.position(record.id)).toEqual({ position: i + 1, jobsAhead, thingsAhead });
          });
        }
        for (const record of records.filter((candidate) => !waits(candidate))) {
          expect(index.has(record.id)).toBe(false);
          expect(index.position(record.id)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});
