/**
 * The /draw requests still waiting for their pictures, per person and place: `drawPlugin` keeps it up to
 * date and `/cancel` reads it. One registry is shared by the plugins of one app (in this process: a bot
 * restart forgets them, and the horde expires what nobody watches).
 */
import type { Platform } from '../framework/types.js';

export interface RunningDraw {
  requestId: string;
  platform: Platform;
  /** The place it was asked in (guild, chat, workspace). */
  placeId: string;
  /** Who asked. */
  userId: string;
  prompt: string;
}

export class DrawRequests {
  readonly #running = new Map<string, RunningDraw>();

  /** A request was queued and its progress is being followed. */
  started(draw: RunningDraw): void {
    this.#running.set(draw.requestId, draw);
  }

  /** The request ended (done, cancelled, expired, failed or given up on). */
  finished(requestId: string): void {
    this.#running.delete(requestId);
  }

  /** What `userId` has waiting in the place, oldest first. */
  runningFor(person: { platform: Platform; placeId: string; userId: string }): RunningDraw[] {
    return [...this.#running.values()].filter(
      (draw) =>
        draw.platform === person.platform && draw.placeId === person.placeId && draw.userId === person.userId,
    );
  }

  get size(): number {
    return this.#running.size;
  }
}
