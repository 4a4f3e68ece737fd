/**
 * The conformance driver of Discord: the real discord.js client (the adapter's own) against the fake
 * Discord — slash commands and button presses as interactions on its gateway, what a user sees read back
 * from the channels (ephemeral messages seen by the user whose interaction they answer).
 */
import type { ButtonStyle, ChatApp } from '@hordekit/adapters';
import {
  createDiscordAdapter,
  type DiscordAdapter,
  decodeCustomId,
  EDIT_INTERVAL_MS,
} from '@hordekit/adapters/discord';
import {
  type CommandOption,
  type DriverButton,
  type DriverMessage,
  type DriverPlace,
  type DriverUser,
  type FakeDiscord,
  type FakeMessage,
  type PlatformDriver,
  startFakeDiscord,
} from '@hordekit/adapters/testing';
import { expect } from 'vitest';

const GUILD = '200000000000000001';
const CHANNELS: Record<DriverPlace, string> = {
  public: '300000000000000001',
  adult: '300000000000000002',
};
const PEOPLE: Record<DriverUser, { id: string; username: string; permissions?: string }> = {
  alice: { id: '400000000000000001', username: 'alice' },
  bob: { id: '400000000000000002', username: 'bob' },
  // Administrator (8): may delete anyone's picture.
  admin: { id: '400000000000000003', username: 'ada', permissions: '8' },
};
const EPHEMERAL = 64;
const PATCH_WEBHOOK = 'PATCH /webhooks/:app/:token/messages/:message';
const STYLES: Record<number, ButtonStyle> = { 1: 'primary', 2: 'secondary', 4: 'danger' };

interface Component {
  type: number;
  label?: string;
  custom_id?: string;
  style?: number;
}

const componentsOf = (rows: unknown): Component[] =>
  (Array.isArray(rows) ? rows : []).flatMap((row) => (row as { components?: Component[] }).components ?? []);

function buttonsOf(rows: unknown): DriverButton[] {
  return componentsOf(rows).flatMap((component) => {
    const route = decodeCustomId(component.custom_id ?? '');
    if (!route || component.label === undefined) return [];
    const style = component.style === undefined ? undefined : STYLES[component.style];
    return [{ label: component.label, ...route, ...(style ? { style } : {}) }];
  });
}

export function discordDriver(): PlatformDriver {
  let fake: FakeDiscord | undefined;
  let adapter: DiscordAdapter | undefined;
  /** The log's length when the last command started, and when it had finished. */
  let window = { from: 0, to: 0 };

  const started = () => {
    if (!fake || !adapter) throw new Error('discord driver: not started');
    return { fake, adapter };
  };
  const toDriver = (message: FakeMessage, viewer?: string): DriverMessage => ({
    id: message.id,
    text: message.content,
    images: message.attachments.map((attachment) => started().fake.file(attachment.id)!.bytes),
    buttons: buttonsOf(message.components),
    private: (message.flags & EPHEMERAL) !== 0 && seenBy(message) === viewer,
    raw: message,
  });
  const seenBy = (message: FakeMessage) =>
    (message.interaction_metadata?.user as { id?: string } | undefined)?.id;
  const shown = (where: DriverPlace) => started().fake.channelMessages(CHANNELS[where]);

  return {
    platform: 'discord',
    users: {
      alice: { id: PEOPLE.alice.id, displayName: 'alice' },
      bob: { id: PEOPLE.bob.id, displayName: 'bob' },
      admin: { id: PEOPLE.admin.id, displayName: 'ada' },
    },
    places: {
      public: { platform: 'discord', placeId: GUILD },
      adult: { platform: 'discord', placeId: GUILD },
    },
    editIntervalMs: EDIT_INTERVAL_MS,

    async start(chat: ChatApp) {
      fake = await startFakeDiscord({
        guilds: [
          {
            id: GUILD,
            name: 'horde',
            channels: [
              { id: CHANNELS.public, name: 'general' },
              { id: CHANNELS.adult, name: 'after-dark', nsfw: true },
            ],
            members: Object.values(PEOPLE),
          },
        ],
      });
      adapter = createDiscordAdapter({
        chat,
        token: 'fake-token',
        applicationId: fake.applicationId,
        guildId: GUILD,
        apiUrl: fake.apiUrl,
        restOptions: { retries: 0, timeout: 5_000 },
      });
      await adapter.start();
    },
    async stop() {
      await adapter?.idle();
      await adapter?.stop();
      await fake?.close();
    },

    async command(user, name, options = {}, where = 'public') {
      const { fake, adapter } = started();
      const sent: CommandOption[] = Object.entries(options).map(([option, value]) =>
        typeof value === 'object'
          ? { name: option, type: 6, value: PEOPLE[value.user].id }
          : { name: option, type: typeof value === 'number' ? 4 : 3, value },
      );
      window = { from: fake.log.calls.length, to: fake.log.calls.length };
      const interaction = await fake.slashCommand({
        guildId: GUILD,
        channelId: CHANNELS[where],
        user: PEOPLE[user],
        name,
        options: sent,
      });
      // A deferred reply: what Discord shows as "thinking…" until the answer.
      const ack = await interaction.acknowledged;
      expect(ack.type).toBe(5);
      await adapter.idle();
      window.to = fake.log.calls.length;
      // Discord cannot make a response private after the fact: a private answer to a public "thinking…"
      // is a followup, and the "thinking…" goes.
      const original = fake.original(interaction.interaction.token);
      if (original) expect(original.flags & EPHEMERAL).toBe(Number(ack.data.flags ?? 0) & EPHEMERAL);
      return { ackMs: ack.ms };
    },

    async press(user, message, label) {
      const { fake, adapter } = started();
      const raw = message.raw as FakeMessage;
      const button = componentsOf(raw.components).find((candidate) => candidate.label === label);
      if (!button?.custom_id) throw new Error(`no "${label}" button on message ${raw.id}`);
      const pressed = await fake.pressButton({
        message: raw,
        custom_id: button.custom_id,
        user: PEOPLE[user],
      });
      // A deferred update: the message stays as it is until the answer.
      expect((await pressed.acknowledged).type).toBe(6);
      await adapter.idle();
    },

    async lastMessageFor(user, where = 'public') {
      const id = PEOPLE[user].id;
      const seen = shown(where).filter(
        (message) => (message.flags & EPHEMERAL) === 0 || seenBy(message) === id,
      );
      const last = seen.at(-1);
      if (!last) throw new Error(`${user} sees no message in ${where}`);
      return toDriver(last, id);
    },

    async publicMessages(where = 'public') {
      return shown(where)
        .filter((message) => (message.flags & EPHEMERAL) === 0)
        .map((message) => toDriver(message));
    },

    async lastProgress() {
      // The command's answer is its original response, edited through the interaction's webhook.
      const edits = started()
        .fake.log.calls.slice(window.from, window.to)
        .filter((call) => call.method === PATCH_WEBHOOK);
      const versions = edits.map((call, index) => ({
        id: `edit-${index}`,
        text: String(call.body.content ?? ''),
        images: [],
        buttons: buttonsOf(call.body.components),
        private: false,
        raw: call.body,
      }));
      return versions.slice(0, -1);
    },

    async makeAdult() {
      // The adult channel is age-restricted: Discord marks it adult.
    },
    async settle() {
      await started().adapter.idle();
    },

    expectRendered(result) {
      const raw = result.raw as FakeMessage;
      // The last edit of the original response made it the result.
      const edits = started()
        .fake.log.calls.slice(window.from, window.to)
        .filter((call) => call.method === PATCH_WEBHOOK);
      expect(edits.at(-1)?.body.content).toBe(raw.content);
      expect(raw.type).toBe(20);
      // The picture is an attachment shown by an embed.
      expect(raw.attachments).toHaveLength(1);
      expect(raw.embeds[0]).toMatchObject({ image: { url: `attachment://${raw.attachments[0]!.filename}` } });
      expect(componentsOf(raw.components).map((component) => [component.label, component.style])).toEqual([
        ['Redo (new seed)', 1],
        ['Details', 2],
        ['Delete', 4],
      ]);
      expect(componentsOf(raw.components)[0]!.custom_id).toMatch(/^draw:redo\|[\w-]+$/);
    },
  };
}
