/**
 * What the adapter's update handlers share: the chat app, the messenger, the memory, the admin lookup,
 * the edit intervals, and `track` — each invocation runs detached from grammY's update handler, so one
 * person's minutes-long /draw never holds up everyone else's updates (grammY handles updates one at a
 * time), and `idle()` can still wait for all of them.
 */
import type { Bot } from 'grammy';
import type { Chat } from 'grammy/types';
import type { ChatApp } from '../framework/app.js';
import type { AdminLookup } from './identity.js';
import type { TelegramMemory } from './memory.js';
import type { Messenger } from './messages.js';
import type { CallbackCodec } from './render.js';

export interface EditIntervals {
  /** @default 1000 */
  private: number;
  /** Telegram allows about 20 messages a minute per group. @default 3000 */
  group: number;
  /** @default 3000 */
  inline: number;
}

export interface Kit {
  app: ChatApp;
  bot: Bot;
  messenger: Messenger;
  codec: CallbackCodec;
  memory: TelegramMemory;
  lookup: AdminLookup;
  intervals: EditIntervals;
  /** Runs `task` without awaiting it; its failure is reported. */
  track(task: () => Promise<void>): void;
  report(error: unknown): void;
}

export function intervalFor(kit: Kit, chat: Pick<Chat, 'type'>): number {
  return chat.type === 'private' ? kit.intervals.private : kit.intervals.group;
}

/** A task runner whose `idle()` resolves once every task started so far (and since) has settled. */
export function taskTracker(report: (error: unknown) => void) {
  const running = new Set<Promise<void>>();
  return {
    track(task: () => Promise<void>): void {
      const promise: Promise<void> = Promise.resolve()
        .then(task)
        .catch(report)
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
