/**
 * The conformance driver of the in-memory platform: invocations go straight to the chat app, through a
 * `PlatformIO` of `MemoryPlatform` that also records every version of every message (for the progress
 * message) and when the first answer came (the acknowledgement).
 */
import type { ChatApp, OutgoingMessage, PlatformIO, Where, Who } from '@hordekit/adapters';
import {
  type DriverMessage,
  type DriverPlace,
  type DriverUser,
  type MemoryMessage,
  MemoryPlatform,
  memoryPlace,
  memoryUser,
  type PlatformDriver,
} from '@hordekit/adapters/testing';

export function memoryDriver(): PlatformDriver {
  const platform = new MemoryPlatform();
  const places: Record<DriverPlace, Where> = {
    public: memoryPlace('guild-1'),
    adult: memoryPlace('guild-1', { channelId: 'guild-1-adult', platformAdult: true }),
  };
  const people: Record<DriverUser, Who> = {
    alice: memoryUser('alice-id', 'Alice'),
    bob: memoryUser('bob-id', 'Bob'),
    admin: memoryUser('admin-id', 'Ada', true),
  };
  /** Every version of each message, by id. */
  const versions = new Map<string, OutgoingMessage[]>();
  /** The messages the last command replied with, in order. */
  let lastReplies: string[] = [];
  let chat: ChatApp | undefined;

  const app = () => {
    if (!chat) throw new Error('memory driver: not started');
    return chat;
  };

  /** `io` recording versions; `onReply` hears of each new message. */
  function recording(io: PlatformIO, onReply: (id: string) => void): PlatformIO {
    return {
      editIntervalMs: io.editIntervalMs,
      async reply(message, options) {
        const sent = await io.reply(message, options);
        versions.set(sent.id, [message]);
        onReply(sent.id);
        return sent;
      },
      async edit(sent, message) {
        const edited = await io.edit(sent, message);
        versions.get(sent.id)?.push(message);
        return edited;
      },
      delete: (sent) => io.delete(sent),
    };
  }

  const toDriver = (message: MemoryMessage, viewer?: string): DriverMessage => ({
    id: message.id,
    text: message.text,
    images: message.images.map((image) => image.bytes),
    buttons: message.buttons.flat().map(({ label, action, payload, style }) => ({
      label,
      action,
      payload,
      ...(style ? { style } : {}),
    })),
    private: message.visibleTo !== undefined && message.visibleTo === viewer,
    raw: message,
  });

  return {
    platform: 'memory',
    users: people,
    places,
    editIntervalMs: platform.editIntervalMs,
    async start(chatApp) {
      chat = chatApp;
    },
    async stop() {},

    async command(user, command, options = {}, where = 'public') {
      const who = people[user];
      const place = places[where];
      const started = performance.now();
      let ackMs: number | undefined;
      lastReplies = [];
      const io = recording(platform.io(who, place), (id) => {
        ackMs ??= performance.now() - started;
        lastReplies.push(id);
      });
      const values = Object.fromEntries(
        Object.entries(options).map(([name, value]) => [
          name,
          typeof value === 'object' ? people[value.user].id : value,
        ]),
      );
      await app().dispatchCommand({ command, options: values, who, where: place }, io);
      if (ackMs === undefined) throw new Error(`/${command} left no answer`);
      return { ackMs };
    },

    async press(user, message, label) {
      const raw = message.raw as MemoryMessage;
      const button = raw.buttons.flat().find((candidate) => candidate.label === label);
      if (!button) throw new Error(`no "${label}" button on message ${raw.id}`);
      const who = people[user];
      const place = Object.values(places).find((candidate) => candidate.channelId === raw.channelId)!;
      await app().dispatchButton(
        {
          action: button.action,
          payload: button.payload,
          who,
          where: place,
          message: { platform: 'memory', id: raw.id, ref: raw.id },
        },
        recording(platform.io(who, place), () => {}),
      );
    },

    async lastMessageFor(user, where = 'public') {
      const id = people[user].id;
      const last = platform.visible(places[where].channelId, id).at(-1);
      if (!last) throw new Error(`${user} sees no message in ${where}`);
      return toDriver(last, id);
    },

    async publicMessages(where = 'public') {
      return platform
        .visible(places[where].channelId)
        .filter((message) => message.visibleTo === undefined)
        .map((message) => toDriver(message));
    },

    async lastProgress() {
      const shown = versions.get(lastReplies[0] ?? '') ?? [];
      const current = platform.messages.find((message) => message.id === lastReplies[0]);
      // The progress message was edited into the result: its last version is the result.
      if (shown.at(-1)?.text !== current?.text)
        throw new Error('the progress message did not become the result');
      return shown.slice(0, -1).map((version, index) => ({
        id: `${lastReplies[0]}@${index}`,
        text: version.text,
        images: [],
        buttons: (version.buttons ?? []).flat().map(({ label, action, payload, style }) => ({
          label,
          action,
          payload,
          ...(style ? { style } : {}),
        })),
        private: false,
        raw: version,
      }));
    },

    async makeAdult() {
      // The adult place is marked so by the platform (`platformAdult`).
    },
    async settle() {},
  };
}
