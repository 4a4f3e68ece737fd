/** A `Clock` whose time only moves when a test says so; timers fire as it passes them. */
import type { Clock } from '../clock.js';

interface Timer {
  id: number;
  every: number;
  next: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private timers = new Map<number, Timer>();
  private nextId = 1;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  every(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { id, every: Math.max(1, ms), next: this.time + Math.max(1, ms), fn });
    return () => this.timers.delete(id);
  }

  /** Moves time forward, firing each timer as its moment passes (in time order). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const timer of this.timers.values())
        if (timer.next <= end && (!due || timer.next < due.next)) due = timer;
      if (!due) break;
      this.time = due.next;
      due.next += due.every;
      due.fn();
    }
    this.time = end;
  }

  /** Moves time to an absolute instant (never backwards). */
  set(at: number): void {
    if (at > this.time) this.advance(at - this.time);
  }
}
