/**
 * Work done over the last minute, in one-second buckets: what the display's megapixelsteps and tokens
 * per second come from. At most 60 buckets, whatever the job rate.
 */
export const RATE_WINDOW_MS = 60_000;

interface Bucket {
  second: number;
  megapixelsteps: number;
  tokens: number;
}

export class RateWindow {
  readonly #buckets: Bucket[] = [];

  add(at: number, work: { megapixelsteps: number; tokens: number }): void {
    const second = Math.floor(at / 1000);
    const last = this.#buckets.at(-1);
    if (last?.second === second) {
      last.megapixelsteps += work.megapixelsteps;
      last.tokens += work.tokens;
    } else {
      this.#buckets.push({ second, ...work });
    }
    this.#prune(at);
  }

  /** Sums over the window ending at `now`. */
  totals(now: number): { megapixelsteps: number; tokens: number } {
    this.#prune(now);
    let megapixelsteps = 0;
    let tokens = 0;
    for (const bucket of this.#buckets) {
      megapixelsteps += bucket.megapixelsteps;
      tokens += bucket.tokens;
    }
    return { megapixelsteps, tokens };
  }

  #prune(now: number): void {
    const oldest = Math.floor((now - RATE_WINDOW_MS) / 1000);
    while (this.#buckets.length > 0 && this.#buckets[0]!.second < oldest) this.#buckets.shift();
  }
}
