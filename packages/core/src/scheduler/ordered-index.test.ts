import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedIndex } from './ordered-index.js';

interface Item {
  key: number;
  jobs: number;
  things: number;
}

const byKey = (a: Item, b: Item) => a.key - b.key;
const newIndex = () => new OrderedIndex<Item>(byKey, (item) => ({ jobs: item.jobs, things: item.things }));

type Op =
  | { op: 'insert'; key: number; jobs: number; things: number }
  | { op: 'delete'; key: number }
  | { op: 'reweigh'; key: number; jobs: number; things: number };

const key = fc.integer({ min: 0, max: 40 });
const weight = fc.integer({ min: 0, max: 1000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('insert' as const), key, jobs: weight, things: weight }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('reweigh' as const), key, jobs: weight, things: weight }),
  },
);

/** The model: a sorted array of items with the weights the index was last told about. */
function apply(ops: Op[]) {
  const index = newIndex();
  const live = new Map<number, Item>();
  const model = new Map<number, { jobs: number; things: number }>();
  for (const op of ops) {
    const item = live.get(op.key);
    if (op.op === 'insert') {
      const fresh = { key: op.key, jobs: op.jobs, things: op.things };
      expect(index.insert(fresh)).toBe(!item);
      if (!item) {
        live.set(op.key, fresh);
        model.set(op.key, { jobs: op.jobs, things: op.things });
      }
    } else if (op.op === 'delete') {
      // The caller mutates its object before telling the index: the stored weights must be used.
      if (item) item.jobs = -12345;
      expect(index.delete(item ?? { key: op.key, jobs: 0, things: 0 })).toBe(!!item);
      live.delete(op.key);
      model.delete(op.key);
    } else {
      if (item) {
        item.jobs = op.jobs;
        item.things = op.things;
        model.set(op.key, { jobs: op.jobs, things: op.things });
      }
      expect(index.reweigh(item ?? { key: op.key, jobs: op.jobs, things: op.things })).toBe(!!item);
    }
  }
  const sorted = [...model.entries()].sort(([a], [b]) => a - b).map(([k, w]) => ({ key: k, ...w }));
  return { index, live, sorted };
}

describe('OrderedIndex', () => {
  it('matches a sorted-array model: order, ranks, prefix sums, totals', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const { index, live, sorted } = apply(ops);
        expect(index.size).toBe(sorted.length);
        expect([...index].map((item) => item.key)).toEqual(sorted.map((item) => item.key));
        expect(index.first()?.key).toBe(sorted[0]?.key);
        expect(index.totals()).toEqual({
          count: sorted.length,
          jobs: sorted.reduce((sum, item) => sum + item.jobs, 0),
          things: sorted.reduce((sum, item) => sum + item.things, 0),
        });
        let jobsBefore = 0;
        let thingsBefore = 0;
        sorted.forEach((item, position) => {
          const stored = live.get(item.key)!;
          expect(index.has(stored)).toBe(true);
          expect(index.rank(stored)).toEqual({ index: position, jobsBefore, thingsBefore });
          jobsBefore += item.jobs;
          thingsBefore += item.things;
        });
        for (let probe = -1; probe <= 41; probe++) {
          const after = sorted.filter((item) => item.key > probe).map((item) => item.key);
          const probeItem = { key: probe, jobs: 0, things: 0 };
          const afterKey = (item: Item) => item.key - probe;
          if (!live.has(probe)) expect(index.rank(probeItem)).toBeUndefined();
          expect(index.firstAfterKey(afterKey)?.key).toBe(after[0]);
          expect([...index.valuesAfter(probeItem)].map((item) => item.key)).toEqual(after);
          expect([...index.valuesAfterKey(afterKey)].map((item) => item.key)).toEqual(after);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps unique keys and reports what it changed', () => {
    const index = newIndex();
    expect(index.insert({ key: 1, jobs: 2, things: 3 })).toBe(true);
    expect(index.insert({ key: 1, jobs: 5, things: 5 })).toBe(false);
    expect(index.totals()).toEqual({ count: 1, jobs: 2, things: 3 });
    expect(index.delete({ key: 2, jobs: 0, things: 0 })).toBe(false);
    expect(index.reweigh({ key: 1, jobs: 7, things: 8 })).toBe(true);
    expect(index.rank({ key: 1, jobs: 0, things: 0 })).toEqual({ index: 0, jobsBefore: 0, thingsBefore: 0 });
    expect(index.totals()).toEqual({ count: 1, jobs: 7, things: 8 });
    expect(index.delete({ key: 1, jobs: 0, things: 0 })).toBe(true);
    expect(index.first()).toBeUndefined();
    expect(index.totals()).toEqual({ count: 0, jobs: 0, things: 0 });
  });

  it('stays shallow on sorted inserts', () => {
    const index = newIndex();
    for (let key = 0; key < 100_000; key++) index.insert({ key, jobs: 1, things: 1 });
    // Unbalanced, sorted inserts would build a 100k-deep path and overflow the recursive insert.
    expect(index.rank({ key: 99_999, jobs: 0, things: 0 })).toEqual({
      index: 99_999,
      jobsBefore: 99_999,
      thingsBefore: 99_999,
    });
    for (let key = 0; key < 100_000; key += 2) index.delete({ key, jobs: 0, things: 0 });
    expect(index.size).toBe(50_000);
    expect(index.first()?.key).toBe(1);
  });
});
