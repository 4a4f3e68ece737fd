/**
 * A sorted collection with order statistics: where an item ranks, and the summed weights of everything
 * before it, in O(log n). It is a treap (a binary search tree kept balanced by random heap priorities),
 * each node caching its subtree's count and weight sums. Hand-written because no maintained package
 * offers rank plus prefix sums over custom weights.
 *
 * Weights are read once, when an item is inserted or reweighed, and kept in its node: the caller mutates
 * its objects before telling the index, so the index must never re-read an item to undo its old weight.
 */

/** What one item contributes to the sums. */
export interface Weight {
  jobs: number;
  things: number;
}

export interface Rank {
  /** 0-based position. */
  index: number;
  /** Sums over the items strictly before this one. */
  jobsBefore: number;
  thingsBefore: number;
}

export interface Totals {
  count: number;
  jobs: number;
  things: number;
}

interface TreeNode<T> {
  readonly item: T;
  readonly priority: number;
  left: TreeNode<T> | null;
  right: TreeNode<T> | null;
  jobs: number;
  things: number;
  /** Subtree aggregates, this node included. */
  count: number;
  totalJobs: number;
  totalThings: number;
}

export class OrderedIndex<T> implements Iterable<T> {
  readonly #compare: (a: T, b: T) => number;
  readonly #weigh: (item: T) => Weight;
  #root: TreeNode<T> | null = null;

  /**
   * @param compare Total order; items equal under it are the same key (at most one is kept).
   * @param weigh Read at `insert` and `reweigh` only.
   */
  constructor(compare: (a: T, b: T) => number, weigh: (item: T) => Weight) {
    this.#compare = compare;
    this.#weigh = weigh;
  }

  get size(): number {
    return this.#root?.count ?? 0;
  }

  totals(): Totals {
    const root = this.#root;
    return root
      ? { count: root.count, jobs: root.totalJobs, things: root.totalThings }
      : { count: 0, jobs: 0, things: 0 };
  }

  has(item: T): boolean {
    return this.#find(item) !== null;
  }

  first(): T | undefined {
    let node = this.#root;
    if (!node) return undefined;
    while (node.left) node = node.left;
    return node.item;
  }

  /** The first item strictly after a key (see `valuesAfterKey`), without setting up an iteration. */
  firstAfterKey(compareToKey: (item: T) => number): T | undefined {
    let found: T | undefined;
    let node = this.#root;
    while (node) {
      if (compareToKey(node.item) > 0) {
        found = node.item;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return found;
  }

  /** Adds the item; false (and no change) when an equal key is already present. */
  insert(item: T): boolean {
    const { jobs, things } = this.#weigh(item);
    const node: TreeNode<T> = {
      item,
      priority: Math.random(),
      left: null,
      right: null,
      jobs,
      things,
      count: 1,
      totalJobs: jobs,
      totalThings: things,
    };
    const root = this.#insert(this.#root, node);
    if (!root) return false;
    this.#root = root;
    return true;
  }

  /** Removes the item equal to `item`, using the weights stored when it was last (re)weighed. */
  delete(item: T): boolean {
    if (!this.#find(item)) return false;
    this.#root = this.#delete(this.#root!, item);
    return true;
  }

  /** Re-reads the weights of the item equal to `item` (reading them from `item`); false when absent. */
  reweigh(item: T): boolean {
    if (!this.#find(item)) return false;
    this.#reweigh(this.#root!, item, this.#weigh(item));
    return true;
  }

  rank(item: T): Rank | undefined {
    let index = 0;
    let jobsBefore = 0;
    let thingsBefore = 0;
    let node = this.#root;
    while (node) {
      const order = this.#compare(item, node.item);
      if (order < 0) {
        node = node.left;
        continue;
      }
      const left = node.left;
      index += left?.count ?? 0;
      jobsBefore += left?.totalJobs ?? 0;
      thingsBefore += left?.totalThings ?? 0;
      if (order === 0) return { index, jobsBefore, thingsBefore };
      index += 1;
      jobsBefore += node.jobs;
      thingsBefore += node.things;
      node = node.right;
    }
    return undefined;
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.values();
  }

  /** All items in order. Do not modify the index while iterating. */
  values(): IterableIterator<T> {
    const stack: TreeNode<T>[] = [];
    for (let node = this.#root; node; node = node.left) stack.push(node);
    return drain(stack);
  }

  /** Items strictly after `probe` (which need not be present), in order. */
  valuesAfter(probe: T): IterableIterator<T> {
    return this.valuesAfterKey((item) => this.#compare(item, probe));
  }

  /**
   * Items strictly after a key that is not itself a `T` (a cursor), in order.
   * @param compareToKey Like `compare(item, key)`: positive when `item` comes after the key.
   */
  valuesAfterKey(compareToKey: (item: T) => number): IterableIterator<T> {
    // The search path's nodes after the key: the stack an in-order walk would hold on reaching the key.
    const stack: TreeNode<T>[] = [];
    let node = this.#root;
    while (node) {
      if (compareToKey(node.item) > 0) {
        stack.push(node);
        node = node.left;
      } else {
        node = node.right;
      }
    }
    return drain(stack);
  }

  #find(item: T): TreeNode<T> | null {
    let node = this.#root;
    while (node) {
      const order = this.#compare(item, node.item);
      if (order === 0) return node;
      node = order < 0 ? node.left : node.right;
    }
    return null;
  }

  /** The new subtree root, or undefined (and nothing changed) when the key is taken. */
  #insert(node: TreeNode<T> | null, fresh: TreeNode<T>): TreeNode<T> | undefined {
    if (!node) return fresh;
    const order = this.#compare(fresh.item, node.item);
    if (order === 0) return undefined;
    if (order < 0) {
      const left = this.#insert(node.left, fresh);
      if (!left) return undefined;
      node.left = left;
      if (left.priority > node.priority) return rotateRight(node, left);
    } else {
      const right = this.#insert(node.right, fresh);
      if (!right) return undefined;
      node.right = right;
      if (right.priority > node.priority) return rotateLeft(node, right);
    }
    refresh(node);
    return node;
  }

  /** Only called when the item is present. */
  #delete(node: TreeNode<T>, item: T): TreeNode<T> | null {
    const order = this.#compare(item, node.item);
    if (order === 0) return join(node.left, node.right);
    if (order < 0) node.left = this.#delete(node.left!, item);
    else node.right = this.#delete(node.right!, item);
    refresh(node);
    return node;
  }

  /** Only called when the item is present. */
  #reweigh(node: TreeNode<T>, item: T, weight: Weight): void {
    const order = this.#compare(item, node.item);
    if (order === 0) {
      node.jobs = weight.jobs;
      node.things = weight.things;
    } else {
      this.#reweigh(order < 0 ? node.left! : node.right!, item, weight);
    }
    refresh(node);
  }
}

function* drain<T>(stack: TreeNode<T>[]): IterableIterator<T> {
  let node = stack.pop();
  while (node) {
    yield node.item;
    for (let next = node.right; next; next = next.left) stack.push(next);
    node = stack.pop();
  }
}

function refresh<T>(node: TreeNode<T>): void {
  const { left, right } = node;
  node.count = 1 + (left?.count ?? 0) + (right?.count ?? 0);
  node.totalJobs = node.jobs + (left?.totalJobs ?? 0) + (right?.totalJobs ?? 0);
  node.totalThings = node.things + (left?.totalThings ?? 0) + (right?.totalThings ?? 0);
}

function rotateRight<T>(node: TreeNode<T>, left: TreeNode<T>): TreeNode<T> {
  node.left = left.right;
  left.right = node;
  refresh(node);
  refresh(left);
  return left;
}

function rotateLeft<T>(node: TreeNode<T>, right: TreeNode<T>): TreeNode<T> {
  node.right = right.left;
  right.left = node;
  refresh(node);
  refresh(right);
  return right;
}

/** Joins two treaps where every item of `low` precedes every item of `high`. */
function join<T>(low: TreeNode<T> | null, high: TreeNode<T> | null): TreeNode<T> | null {
  if (!low) return high;
  if (!high) return low;
  if (low.priority > high.priority) {
    low.right = join(low.right, high);
    refresh(low);
    return low;
  }
  high.left = join(low, high.left);
  refresh(high);
  return high;
}
