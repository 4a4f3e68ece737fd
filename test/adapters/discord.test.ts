/**
 * What only Discord has, end to end: the real discord.js client against the fake Discord (REST + gateway on
 * loopback), a real community horde (embedded client) and our worker node on the demo backend — command
 * registration, autocomplete, the channel-message fallback once an interaction token expires, and the
 * adapter inside an existing Client. The `/draw` walk, kudos and refusals (deferral timing, progress edits,
 * the worker's bytes, buttons, private answers) are the adapter conformance suite's (`conformance.test.ts`).
 */

import { once } from 'node:events';
import type { ChatApp } from '@hordekit/adapters';
import { createDiscordAdapter, type DiscordAdapter } from '@hordekit/adapters/discord';
import {
  type FakeDiscord,
  type FakeMessage,
  type FakeUser,
  startFakeDiscord,
} from '@hordekit/adapters/testing';
import type { FakeClock } from '@hordekit/core/testing';
import { Client, Events, GatewayIntentBits, Routes } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHorde } from '../support/chat-harness.js';
import type { TestServer } from '../support/server.js';

const GUILD = '200000000000000001';
const SAFE = '300000000000000001';
const ADULT = '300000000000000002';
const alice: FakeUser = { id: '400000000000000001', username: 'alice' };
const bob: FakeUser = { id: '400000000000000002', username: 'bob' };
const EPHEMERAL = 64;
const PATCH_WEBHOOK = 'PATCH /webhooks/:app/:token/messages/:message';

let harness: ChatHarness | undefined;
let ts: TestServer | undefined;
let fake: FakeDiscord | undefined;
let adapter: DiscordAdapter | undefined;
/** A bot of someone else's that the adapter is attached to. */
let host: Client | undefined;
let app: ChatApp;
let clock: FakeClock;

/** The horde, a worker drawing `stepDelayMs` per step, the fake Discord and the adapter, logged in. */
async function start(stepDelayMs = 5) {
  harness = await startChatHorde({ stepDelayMs });
  ({ ts, app, clock } = harness);
  fake = await startFakeDiscord({
    guilds: [
      {
        id: GUILD,
        name: 'horde',
        channels: [
          { id: SAFE, name: 'general' },
          { id: ADULT, name: 'after-dark', nsfw: true },
        ],
        members: [alice, bob],
      },
    ],
  });
  adapter = createDiscordAdapter({
    chat: app,
    token: 'fake-token',
    applicationId: fake.applicationId,
    guildId: GUILD,
    apiUrl: fake.apiUrl,
    restOptions: { retries: 0, timeout: 5_000 },
  });
  await adapter.start();
  await harness.waitForWorker();
  return { fake, adapter, ts };
}

afterEach(async () => {
  await adapter?.idle();
  await adapter?.stop();
  await host?.destroy();
  await harness?.close();
  await fake?.close();
  adapter = undefined;
  host = undefined;
  harness = undefined;
  fake = undefined;
  ts = undefined;
});

const option = (name: string, value: string | number, type = typeof value === 'number' ? 4 : 3) => ({
  name,
  type,
  value,
});

/** `user` presses the button labelled `label` on `message`; returns the press's token. */
async function press(user: FakeUser, message: FakeMessage, label: string) {
  const button = buttonsOf(message).find((candidate) => candidate.label === label);
  if (!button) throw new Error(`no "${label}" button on message ${message.id}`);
  const started = await fake!.pressButton({ message, custom_id: button.custom_id, user });
  expect((await started.acknowledged).type).toBe(6);
  await adapter!.idle();
  return started.interaction.token;
}

function buttonsOf(message: FakeMessage): { label: string; custom_id: string; style: number }[] {
  return message.components.flatMap(
    (row) => (row.components ?? []) as { label: string; custom_id: string; style: number }[],
  );
}

/** The bytes the worker uploaded for the request whose buttons `message` carries. */
async function uploadedImage(message: FakeMessage): Promise<Buffer> {
  const requestId = buttonsOf(message)[0]!.custom_id.split('|')[1]!;
  return Buffer.from((await harness!.uploadedBytes(requestId))!);
}

function attachedBytes(message: FakeMessage): Buffer {
  return fake!.file(message.attachments[0]!.id)!.bytes;
}

describe('the Discord adapter', () => {
  it('registers the commands to the guild with Discord option types, required options first', async () => {
    const { fake } = await start();
    expect(fake.commands()).toEqual([]);
    const commands = fake.commands(GUILD);
    expect(commands.map((command) => command.name).sort()).toEqual(
      ['draw', 'kudos', 'models', 'transfer', 'workers'].sort(),
    );
    const draw = commands.find((command) => command.name === 'draw')!;
    expect(draw.options).toEqual([
      { name: 'prompt', description: 'What to draw', required: true, type: 3, max_length: 1000 },
      expect.objectContaining({ name: 'negative', type: 3, required: false, max_length: 500 }),
      expect.objectContaining({ name: 'model', type: 3, autocomplete: true }),
      expect.objectContaining({
        name: 'size',
        type: 3,
        choices: expect.arrayContaining([{ name: 'square 512×512', value: '512x512' }]),
      }),
      expect.objectContaining({ name: 'steps', type: 4, min_value: 1, max_value: 150 }),
      expect.objectContaining({ name: 'count', type: 4, min_value: 1, max_value: 4 }),
      expect.objectContaining({ name: 'seed', type: 3, max_length: 40 }),
      expect.objectContaining({
        name: 'style',
        type: 3,
        choices: expect.arrayContaining([{ name: 'watercolor', value: 'watercolor' }]),
      }),
    ]);
    const transfer = commands.find((command) => command.name === 'transfer')!;
    expect(transfer.options).toEqual([
      expect.objectContaining({ name: 'to', type: 6, required: true }),
      expect.objectContaining({ name: 'amount', type: 4, required: true, min_value: 1 }),
    ]);
  });

  it('suggests the served models while `model` is typed', async () => {
    const { fake } = await start();
    const choices = await fake.autocomplete({
      guildId: GUILD,
      user: alice,
      name: 'draw',
      options: [option('prompt', 'a cat')],
      focused: { name: 'model', value: 'stable' },
    });
    expect(choices).toEqual([{ name: 'stable_diffusion (1 online)', value: 'stable_diffusion' }]);
    expect(
      await fake.autocomplete({
        guildId: GUILD,
        user: alice,
        name: 'draw',
        focused: { name: 'model', value: 'flux' },
      }),
    ).toEqual([]);
  });

  it('delivers the images as a channel message once the interaction token has expired', async () => {
    const { fake } = await start(20);
    // Expired before the first answer: the progress message and the images go to the channel.
    const started = await fake.slashCommand({
      guildId: GUILD,
      channelId: SAFE,
      user: alice,
      name: 'draw',
      options: [option('prompt', 'a lighthouse at dusk')],
    });
    await started.acknowledged;
    fake.expireTokens();
    await adapter!.idle();
    const [posted, ...others] = fake.channelMessages(SAFE);
    expect(others).toEqual([]);
    expect(posted).toMatchObject({ author: { id: fake.botUser.id }, type: 0 });
    expect(posted!.webhook_id).toBeUndefined();
    expect(posted!.content).toMatch(new RegExp(`^<@${alice.id}> “a lighthouse at dusk” — seed \\d+`));
    expect(attachedBytes(posted!).equals(await uploadedImage(posted!))).toBe(true);
    expect(fake.original(started.interaction.token)).toBeUndefined();

    // Expired mid-way: the progress message is replaced by a channel message carrying the images.
    clock.advance(60_000);
    const patches = fake.log.of(PATCH_WEBHOOK).length;
    const second = await fake.slashCommand({
      guildId: GUILD,
      channelId: SAFE,
      user: alice,
      name: 'draw',
      options: [option('prompt', 'a harbour at night')],
    });
    await second.acknowledged;
    await fake.log.next(PATCH_WEBHOOK, { after: fake.log.calls.length });
    expect(fake.log.of(PATCH_WEBHOOK)).toHaveLength(patches + 1);
    fake.expireTokens();
    await adapter!.idle();
    const last = fake.channelMessages(SAFE).at(-1)!;
    expect(last.content).toMatch(new RegExp(`^<@${alice.id}> “a harbour at night” — seed \\d+`));
    expect(attachedBytes(last).equals(await uploadedImage(last))).toBe(true);
    expect(fake.channelMessages(SAFE).map((message) => message.id)).toEqual([posted!.id, last.id]);

    // Its buttons still work: Delete removes the channel message.
    await press(alice, last, 'Delete');
    expect(fake.channelMessages(SAFE).map((message) => message.id)).toEqual([posted!.id]);
  });

  it('works inside an existing Client: the host logs in and keeps its own commands', async () => {
    const { fake } = await start();
    await adapter!.stop();
    host = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl, retries: 0 } });
    const hostClient = host;
    await hostClient.rest
      .setToken('fake-token')
      .put(Routes.applicationGuildCommands(fake.applicationId, GUILD), {
        body: [{ name: 'ping', description: 'Pong', type: 1 }],
      });
    hostClient.on(Events.InteractionCreate, (interaction) => {
      if (interaction.isChatInputCommand() && interaction.commandName === 'ping')
        void interaction.reply('pong');
    });
    adapter = createDiscordAdapter({
      chat: app,
      token: 'fake-token',
      applicationId: fake.applicationId,
      guildId: GUILD,
      apiUrl: fake.apiUrl,
      client: hostClient,
      restOptions: { retries: 0 },
    });
    await adapter.start();
    const ready = once(hostClient, Events.ClientReady);
    await hostClient.login('fake-token');
    await ready;
    expect(fake.commands(GUILD).map((command) => command.name)).toEqual(
      expect.arrayContaining(['ping', 'draw', 'kudos', 'transfer']),
    );

    // The host's command is the host's; ours are the adapter's — here in a DM, answered privately.
    const ping = await fake.slashCommand({ guildId: GUILD, user: alice, name: 'ping' });
    expect(await ping.acknowledged).toMatchObject({ type: 4, data: { content: 'pong' } });
    const dm = await fake.slashCommand({ user: bob, name: 'kudos' });
    expect(await dm.acknowledged).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
    await adapter.idle();
    expect(fake.original(dm.interaction.token)).toMatchObject({
      content: expect.stringMatching(/^You have 0 kudos/),
      flags: EPHEMERAL,
    });

    await adapter.stop();
    expect(hostClient.isReady()).toBe(true);
  });
});
