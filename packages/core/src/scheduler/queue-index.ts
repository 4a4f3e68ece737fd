/**
 * The in-memory index of waiting requests (active, `waiting > 0`) behind the SQLite driver's
 * `findCandidates`, `queuePosition` and `queueSummary`. Requests with the same indexable requirements
 * (kind, model set, needs, sizes) share a partition, so a pop accepts or rejects whole partitions and then
 * merges the accepted partitions' queues in priority order; it never looks at a request it cannot take.
 *
 * The driver owns the records and mutates them; it calls `sync` after every change it commits.
 */
import { HordeError } from '../errors.js';
import type {
  CandidateCursor,
  CandidatePage,
  CandidateQuery,
  ModelQueue,
  QueuePosition,
  QueueSummary,
  RequestKind,
  RequestRecord,
  SkipCounts,
  SkipReason,
} from '../storage/types.js';
import { OrderedIndex, type Weight } from './ordered-index.js';
import { missingNeedReason } from './requirements.js';

/** Queue order: higher `sortKey` first, then FIFO by `seq`. Records compare as their own cursors. */
export function compareQueueOrder(a: CandidateCursor, b: CandidateCursor): number {
  if (a.sortKey !== b.sortKey) return a.sortKey > b.sortKey ? -1 : 1;
  return a.seq - b.seq;
}

const weighRequest = (record: RequestRecord): Weight => ({
  jobs: record.waiting,
  things: record.things * record.waiting,
});

const newRequestIndex = () => new OrderedIndex<RequestRecord>(compareQueueOrder, weighRequest);
/** Owner-restricted scans only walk in order; they never ask for sums. */
const NO_WEIGHT: Weight = { jobs: 0, things: 0 };
const newOwnedIndex = () => new OrderedIndex<RequestRecord>(compareQueueOrder, () => NO_WEIGHT);

/** Requests with identical indexable requirements. */
interface Partition {
  readonly kind: RequestKind;
  readonly key: string;
  /** Sorted, without duplicates; empty means any model. */
  readonly models: readonly string[];
  readonly needs: number;
  readonly pixels: number;
  readonly maxLength: number;
  readonly maxContextLength: number;
  readonly requests: OrderedIndex<RequestRecord>;
}

interface KindQueue {
  readonly kind: RequestKind;
  /** Every waiting request of the kind, for positions and totals. */
  readonly all: OrderedIndex<RequestRecord>;
  readonly partitions: Map<string, Partition>;
  readonly byModel: Map<string, Set<Partition>>;
  readonly anyModel: Set<Partition>;
  /** Summary counters; `""` is "any model". */
  readonly models: Map<string, ModelQueue>;
}

interface Entry {
  readonly record: RequestRecord;
  readonly queue: KindQueue;
  readonly partition: Partition;
  /** The weight last given to the ordered indexes, to undo it in the summary counters. */
  jobs: number;
  things: number;
}

export class QueueIndex {
  #queues = { image: newKindQueue('image'), text: newKindQueue('text') };
  readonly #entries = new Map<string, Entry>();
  /**
   * Each account's waiting requests, by partition: a scan restricted to a few accounts (the worker's owner
   * and priority users) accepts or rejects whole groups, so it costs O(their partitions), not O(their
   * requests) — an owner may have many requests queued while its worker pops.
   */
  readonly #byAccount = new Map<number, Map<Partition, OrderedIndex<RequestRecord>>>();

  /** Brings the index in line with `record` after any change: adds, drops or reweighs it. */
  sync(record: RequestRecord): void {
    const entry = this.#entries.get(record.id);
    if (record.state !== 'active' || record.waiting <= 0) {
      if (entry) this.#remove(entry);
    } else if (!entry) {
      this.#add(record);
    } else if (entry.record !== record) {
      // The driver replaced the object (a reload): index the new one.
      this.#remove(entry);
      this.#add(record);
    } else if (entry.jobs !== record.waiting || entry.things !== record.things * record.waiting) {
      this.#reweigh(entry);
    }
  }

  remove(target: string | RequestRecord): boolean {
    const entry = this.#entries.get(typeof target === 'string' ? target : target.id);
    if (entry) this.#remove(entry);
    return entry !== undefined;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  size(kind: RequestKind): number {
    return this.#queues[kind].all.size;
  }

  clear(): void {
    this.#queues = { image: newKindQueue('image'), text: newKindQueue('text') };
    this.#entries.clear();
    this.#byAccount.clear();
  }

  /** Undefined when nothing of the request waits. Sums include the request itself. */
  position(id: string): QueuePosition | undefined {
    const entry = this.#entries.get(id);
    const rank = entry?.queue.all.rank(entry.record);
    if (!entry || !rank) return undefined;
    return {
      position: rank.index + 1,
      jobsAhead: rank.jobsBefore + entry.jobs,
      thingsAhead: rank.thingsBefore + entry.things,
    };
  }

  summary(kind: RequestKind): QueueSummary {
    const queue = this.#queues[kind];
    const { count, jobs, things } = queue.all.totals();
    const models = [...queue.models.values()]
      .map((counter) => ({ ...counter }))
      .sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
    return { kind, requests: count, jobs, things, models };
  }

  /** The waiting requests the worker passes the indexable filters for, in queue order, after `query.after`. */
  candidates(query: CandidateQuery): CandidatePage {
    if (query.ownerIds) return this.#ownerCandidates(query, query.ownerIds);
    const queue = this.#queues[query.kind];
    const skipped: SkipCounts = {};
    const accepted: OrderedIndex<RequestRecord>[] = [];
    if (query.countSkips) {
      // Walk every partition of the kind (never their requests) to count the rejected ones.
      const workerModels = new Set(query.models);
      for (const partition of queue.partitions.values()) {
        const reason = groupRejection(partition, query, workerModels);
        if (reason === null) accepted.push(partition.requests);
        else skipped[reason] = (skipped[reason] ?? 0) + partition.requests.size;
      }
    } else {
      // Only visit the partitions holding one of the worker's models.
      const seen = new Set<Partition>();
      const consider = (partition: Partition) => {
        if (seen.has(partition)) return;
        seen.add(partition);
        if (fits(partition, query) === null) accepted.push(partition.requests);
      };
      for (const model of query.models) queue.byModel.get(model)?.forEach(consider);
      if (query.acceptsAnyModel) queue.anyModel.forEach(consider);
    }
    return { ...mergeQueues(accepted, query), skipped };
  }

  /** Owner-restricted scans: the accepted (account, partition) groups, merged in queue order. */
  #ownerCandidates(query: CandidateQuery, ownerIds: number[]): CandidatePage {
    const workerModels = new Set(query.models);
    const skipped: SkipCounts = {};
    const accepted: OrderedIndex<RequestRecord>[] = [];
    for (const accountId of new Set(ownerIds)) {
      for (const [partition, requests] of this.#byAccount.get(accountId) ?? []) {
        if (partition.kind !== query.kind) continue;
        const reason = groupRejection(partition, query, workerModels);
        if (reason === null) accepted.push(requests);
        else if (query.countSkips) skipped[reason] = (skipped[reason] ?? 0) + requests.size;
      }
    }
    return { ...mergeQueues(accepted, query), skipped };
  }

  #add(record: RequestRecord): void {
    const queue = this.#queues[record.kind];
    if (!queue.all.insert(record)) {
      throw new HordeError('StorageError', 'Two waiting requests share a queue order key', {
        details: { id: record.id, sortKey: record.sortKey, seq: record.seq },
      });
    }
    const partition = partitionFor(queue, record);
    partition.requests.insert(record);
    const entry: Entry = { record, queue, partition, jobs: 0, things: 0 };
    setWeight(entry, record.waiting, record.things * record.waiting);
    this.#entries.set(record.id, entry);
    const owned = getOrCreate(this.#byAccount, record.accountId, () => new Map());
    getOrCreate(owned, partition, newOwnedIndex).insert(record);
  }

  #remove(entry: Entry): void {
    const { record, queue, partition } = entry;
    queue.all.delete(record);
    partition.requests.delete(record);
    setWeight(entry, 0, 0);
    if (partition.requests.size === 0) dropPartition(queue, partition);
    this.#entries.delete(record.id);
    const owned = this.#byAccount.get(record.accountId)!;
    const requests = owned.get(partition)!;
    requests.delete(record);
    if (requests.size === 0) owned.delete(partition);
    if (owned.size === 0) this.#byAccount.delete(record.accountId);
  }

  #reweigh(entry: Entry): void {
    const { record } = entry;
    entry.queue.all.reweigh(record);
    entry.partition.requests.reweigh(record);
    setWeight(entry, record.waiting, record.things * record.waiting);
  }
}

function newKindQueue(kind: RequestKind): KindQueue {
  return {
    kind,
    all: newRequestIndex(),
    partitions: new Map(),
    byModel: new Map(),
    anyModel: new Set(),
    models: new Map(),
  };
}

function partitionFor(queue: KindQueue, record: RequestRecord): Partition {
  const models = [...new Set(record.models)].sort();
  const { needs, pixels, maxLength, maxContextLength } = record;
  const key = JSON.stringify([needs, pixels, maxLength, maxContextLength, models]);
  let partition = queue.partitions.get(key);
  if (partition) return partition;
  partition = {
    kind: queue.kind,
    key,
    models,
    needs,
    pixels,
    maxLength,
    maxContextLength,
    requests: newRequestIndex(),
  };
  queue.partitions.set(key, partition);
  if (models.length === 0) queue.anyModel.add(partition);
  for (const model of models) getOrCreate(queue.byModel, model, () => new Set()).add(partition);
  return partition;
}

function dropPartition(queue: KindQueue, partition: Partition): void {
  queue.partitions.delete(partition.key);
  queue.anyModel.delete(partition);
  for (const model of partition.models) {
    const holders = queue.byModel.get(model);
    holders?.delete(partition);
    if (holders?.size === 0) queue.byModel.delete(model);
  }
}

/** Moves the entry's weight in the per-model summary counters; weight 0 means the request left. */
function setWeight(entry: Entry, jobs: number, things: number): void {
  const { queue, partition } = entry;
  const requestDelta = (jobs > 0 ? 1 : 0) - (entry.jobs > 0 ? 1 : 0);
  for (const model of partition.models.length > 0 ? partition.models : ['']) {
    const counter = getOrCreate(queue.models, model, () => ({ model, requests: 0, jobs: 0, things: 0 }));
    counter.requests += requestDelta;
    counter.jobs += jobs - entry.jobs;
    counter.things += things - entry.things;
    if (counter.requests === 0) queue.models.delete(model);
  }
  entry.jobs = jobs;
  entry.things = things;
}

/** The indexable requirements a group of waiting requests shares (a partition, or a row group of a SQL scan). */
export interface RequirementGroup {
  /** Without duplicates; empty means any model. */
  readonly models: readonly string[];
  readonly needs: number;
  readonly pixels: number;
  readonly maxLength: number;
  readonly maxContextLength: number;
}

/** The size and capability checks, in the order their skip reasons are reported; null when they pass. */
function fits(group: RequirementGroup, query: CandidateQuery): SkipReason | null {
  if (query.kind === 'image') {
    if (group.pixels > query.maxPixels) return 'max_pixels';
  } else {
    if (group.maxLength > query.maxLength) return 'max_length';
    if (group.maxContextLength > query.maxContextLength) return 'max_context_length';
  }
  return missingNeedReason(group.needs, query.offers);
}

/**
 * Why the worker cannot take any request of the group, or null when it can: the reason its requests are
 * counted under in a pop's `skipped`. Every driver reports skips through this one function.
 */
export function groupRejection(
  group: RequirementGroup,
  query: CandidateQuery,
  workerModels: ReadonlySet<string>,
): SkipReason | null {
  const modelsMatch =
    group.models.length === 0 ? query.acceptsAnyModel : group.models.some((model) => workerModels.has(model));
  return modelsMatch ? fits(group, query) : 'models';
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function cursorOf(record: RequestRecord): CandidateCursor {
  return { sortKey: record.sortKey, seq: record.seq };
}

interface Stream {
  head: RequestRecord;
  queue: OrderedIndex<RequestRecord>;
  /** Opened when the head is first taken: most queues of a wide scan only ever show their head. */
  rest: Iterator<RequestRecord> | null;
}

/**
 * K-way merge of queues (partitions, or one account's part of a partition) after the cursor, through a
 * binary min-heap of stream heads.
 */
function mergeQueues(
  queues: OrderedIndex<RequestRecord>[],
  query: CandidateQuery,
): Omit<CandidatePage, 'skipped'> {
  const { after, limit } = query;
  const heap: Stream[] = [];
  for (const queue of queues) {
    const head = after ? queue.firstAfterKey((record) => compareQueueOrder(record, after)) : queue.first();
    if (head) heap.push({ head, queue, rest: null });
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
  const candidates: RequestRecord[] = [];
  while (heap.length > 0 && candidates.length < limit) {
    const top = heap[0]!;
    candidates.push(top.head);
    top.rest ??= top.queue.valuesAfter(top.head);
    const next = top.rest.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length === 0) break;
      heap[0] = last;
    } else {
      top.head = next.value;
    }
    siftDown(heap, 0);
  }
  const last = candidates.at(-1);
  return { candidates, next: last && heap.length > 0 ? cursorOf(last) : null };
}

function siftDown(heap: Stream[], start: number): void {
  const stream = heap[start]!;
  let i = start;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= heap.length) break;
    const right = child + 1;
    if (right < heap.length && compareQueueOrder(heap[right]!.head, heap[child]!.head) < 0) child = right;
    if (compareQueueOrder(heap[child]!.head, stream.head) >= 0) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = stream;
}
