/**
 * A chat platform that lives in memory: the framework's `PlatformIO` with every message kept as a user
 * would see it (text, images, buttons, who may see it, edit history). Framework and plugin tests run on it;
 * the real adapters run the same scenarios against fake platform APIs.
 */
import type { ChatApp } from '../framework/app.js';
import type { Button, OutgoingMessage, PlatformIO, SentMessage, Where, Who } from '../framework/types.js';

export interface MemoryMessage {
  id: string;
  placeId: string;
  channelId: string;
  text: string;
  images: { bytes: Uint8Array; filename: string }[];
  buttons: Button[][];
  /** Only this user sees it. */
  visibleTo?: string;
  /** Every version of the text, oldest first. */
  history: string[];
  deleted: boolean;
  createdAt: number;
}

export class MemoryPlatform {
  readonly messages: MemoryMessage[] = [];
  #next = 1;

  constructor(readonly editIntervalMs = 0) {}

  /** What the channel shows now (deleted messages gone), optionally as seen by one user. */
  visible(channelId: string, userId?: string): MemoryMessage[] {
    return this.messages.filter(
      (message) =>
        message.channelId === channelId &&
        !message.deleted &&
        (message.visibleTo === undefined || message.visibleTo === userId),
    );
  }

  /** The `PlatformIO` for one invocation by `who` in `where`. */
  io(who: Who, where: Where): PlatformIO {
    const find = (sent: SentMessage) => {
      const message = this.messages.find((candidate) => candidate.id === sent.id);
      if (!message || message.deleted) throw new Error(`message ${sent.id} is gone`);
      return message;
    };
    const toSent = (message: MemoryMessage): SentMessage => ({
      platform: 'memory',
      id: message.id,
      ref: message.id,
    });
    return {
      editIntervalMs: this.editIntervalMs,
      reply: async (outgoing: OutgoingMessage, options = {}) => {
        const message: MemoryMessage = {
          id: String(this.#next++),
          placeId: where.placeId,
          channelId: where.channelId,
          text: outgoing.text,
          images: (outgoing.images ?? []).map(({ bytes, filename }) => ({ bytes, filename })),
          buttons: outgoing.buttons ?? [],
          visibleTo: options.ephemeral ? who.id : undefined,
          history: [outgoing.text],
          deleted: false,
          createdAt: Date.now(),
        };
        this.messages.push(message);
        return toSent(message);
      },
      edit: async (sent, outgoing) => {
        const message = find(sent);
        message.text = outgoing.text;
        message.images = (outgoing.images ?? []).map(({ bytes, filename }) => ({ bytes, filename }));
        message.buttons = outgoing.buttons ?? [];
        message.history.push(outgoing.text);
        return sent;
      },
      delete: async (sent) => {
        find(sent).deleted = true;
      },
    };
  }

  /** Runs a command as `who` in `where` and waits until the app is done with it. */
  command(app: ChatApp, who: Who, where: Where, command: string, options: Record<string, unknown> = {}) {
    return app.dispatchCommand({ command, options, who, where }, this.io(who, where));
  }

  /** Presses `button` of `message` as `who`. */
  press(app: ChatApp, who: Who, where: Where, message: MemoryMessage, button: Button) {
    const sent: SentMessage = { platform: 'memory', id: message.id, ref: message.id };
    return app.dispatchButton(
      { action: button.action, payload: button.payload, who, where, message: sent },
      this.io(who, where),
    );
  }
}

export function memoryUser(id: string, displayName = `user ${id}`, isAdmin = false): Who {
  return { platform: 'memory', id, displayName, isAdmin };
}

export function memoryPlace(placeId = 'place-1', options: Partial<Where> = {}): Where {
  return {
    platform: 'memory',
    placeId,
    channelId: options.channelId ?? `${placeId}-general`,
    platformAdult: options.platformAdult ?? false,
    isPrivate: options.isPrivate ?? false,
  };
}
