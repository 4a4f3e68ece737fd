/**
 * The Discord adapter end to end: the real discord.js client against the fake Discord (REST + gateway on
 * loopback), a real community horde (embedded client) and our worker node on the demo backend. Each
 * scenario plays a user (slash commands, button presses, autocomplete) and checks what that user would
 * see: the deferral's timing, progress edits, the image bytes the worker made, buttons, private answers.
 */

import { once } from 'node:events';
import type { ChatApp, Where } from '@hordekit/adapters';
import { createDiscordAdapter, type DiscordAdapter } from '@hordekit/adapters/discord';
import {
  type CommandOption,
  type FakeDiscord,
  type FakeMessage,
  type FakeUser,
  startFakeDiscord,
} from '@hordekit/adapters/testing';
import type { FakeClock } from '@hordekit/core/testing';
import { Client, Events, GatewayIntentBits, Routes } from 'discord.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHorde } from '../support/chat-harness.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import type { TestServer } from '../support/server.js';

const GUILD = '200000000000000001';
const SAFE = '300000000000000001';
const ADULT = '300000000000000002';
const alice: FakeUser = { id: '400000000000000001', username: 'alice' };
const bob: FakeUser = { id: '400000000000000002', username: 'bob' };
const guildPlace: Where = {
  platform: 'discord',
  placeId: GUILD,
  channelId: SAFE,
  platformAdult: false,
  isPrivate: false,
};
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
/** Every deferral's time from dispatch to callback, for the report at the end. */
const deferMs: number[] = [];

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

afterAll(() => {
  if (deferMs.length > 0) {
    const max = Math.max(...deferMs).toFixed(1);
    console.info(`discord deferrals: ${deferMs.length}, slowest ${max} ms`);
  }
});

const option = (name: string, value: string | number, type = typeof value === 'number' ? 4 : 3) => ({
  name,
  type,
  value,
});

/** `user` runs `/name` and the adapter finishes with it; returns the interaction's token. */
async function command(user: FakeUser, name: string, options: CommandOption[] = [], channelId = SAFE) {
  const started = await fake!.slashCommand({ guildId: GUILD, channelId, user, name, options });
  const ack = await started.acknowledged;
  expect(ack.type).toBe(5);
  expect(ack.ms).toBeLessThan(3_000);
  deferMs.push(ack.ms);
  await adapter!.idle();
  return started.interaction.token;
}

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

/** What `token`'s interaction said last: its followups, else its original response. */
function lastAnswer(token: string): FakeMessage {
  const answer = fake!.followups(token).at(-1) ?? fake!.original(token);
  if (!answer) throw new Error('the interaction left no message');
  return answer;
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
    ]);
    const transfer = commands.find((command) => command.name === 'transfer')!;
    expect(transfer.options).toEqual([
      expect.objectContaining({ name: 'to', type: 6, required: true }),
      expect.objectContaining({ name: 'amount', type: 4, required: true, min_value: 1 }),
    ]);
  });

  it('/draw: deferred at once, progress edits of the original, the worker’s image and buttons; redo, delete', async () => {
    // 30 steps of 50 ms: long enough for a progress edit between the first answer and the images.
    const { fake } = await start(50);
    const token = await command(alice, 'draw', [
      option('prompt', 'a lighthouse at dusk'),
      option('seed', '77'),
    ]);
    const result = fake.original(token)!;
    expect(result.content).toMatch(
      /^“a lighthouse at dusk” — seed 77 · stable_diffusion · drawn by demo-gpu · [\d.]+ kudos\.$/,
    );
    const edits = fake.log.of(PATCH_WEBHOOK).map((call) => String(call.body.content));
    expect(edits.length).toBeGreaterThanOrEqual(3);
    expect(edits[0]).toMatch(/^Drawing “a lighthouse at dusk”: (queued|in the queue)/);
    // At least one edit between the first answer and the images, showing where the request stands.
    expect(edits.slice(1, -1)).toContainEqual(expect.stringMatching(/^Drawing “a lighthouse at dusk”: /));
    expect(edits.at(-1)).toBe(result.content);
    // Exactly the bytes the worker uploaded, as an attachment shown by an embed.
    expect(result.attachments).toHaveLength(1);
    expect(attachedBytes(result).equals(await uploadedImage(result))).toBe(true);
    expect(result.embeds[0]).toMatchObject({
      image: { url: `attachment://${result.attachments[0]!.filename}` },
    });
    expect(buttonsOf(result).map(({ label, style }) => [label, style])).toEqual([
      ['Redo (new seed)', 1],
      ['Details', 2],
      ['Delete', 4],
    ]);
    expect(buttonsOf(result)[0]!.custom_id).toMatch(/^draw:redo\|[\w-]+$/);

    // Redo: a new request with a new seed, in a new message.
    clock.advance(60_000);
    const redoToken = await press(alice, result, 'Redo (new seed)');
    const redo = fake.followups(redoToken).at(-1)!;
    expect(redo.id).not.toBe(result.id);
    expect(redo.flags & EPHEMERAL).toBe(0);
    expect(redo.content).toMatch(/^“a lighthouse at dusk” — seed \d+/);
    expect(redo.content).not.toMatch(/seed 77 /);
    expect(buttonsOf(redo)[0]!.custom_id).not.toBe(buttonsOf(result)[0]!.custom_id);
    expect(attachedBytes(redo).equals(await uploadedImage(redo))).toBe(true);

    // Delete: refused (privately) for someone else, done for the requester.
    const refused = lastAnswer(await press(bob, result, 'Delete'));
    expect(refused).toMatchObject({
      content: 'Only the person who asked for it, or an admin, can delete it.',
      flags: EPHEMERAL,
    });
    expect(fake.channelMessages(SAFE).map((message) => message.id)).toContain(result.id);
    await press(alice, result, 'Delete');
    expect(fake.channelMessages(SAFE).map((message) => message.id)).not.toContain(result.id);
    await expectConsistentLedger(ts!.horde.store);
  });

  it('/kudos shows the spend privately; /transfer moves kudos to another Discord user', async () => {
    const { fake, ts } = await start();
    const first = fake.original(await command(alice, 'kudos'))!;
    expect(first.flags & EPHEMERAL).toBe(EPHEMERAL);
    const alias = first.content.match(/account is (\S+)\./)![1]!;
    const account = await ts.horde.findAccount(alias);
    await ts.horde.modifyAccount({ accountId: 1 }, account!.id, { kudos: 100 });
    await command(alice, 'draw', [option('prompt', 'a cat')]);
    const after = fake.original(await command(alice, 'kudos'))!.content;
    expect(Number(after.match(/You have (\d+) kudos/)![1])).toBeLessThan(100);
    expect(after).toMatch(/request fee|pictures or text drawn for you/);

    const sent = fake.original(
      await command(alice, 'transfer', [option('to', bob.id, 6), option('amount', 20)]),
    )!;
    expect(sent.flags & EPHEMERAL).toBe(0);
    expect(sent.content).toMatch(/^alice sent 20 kudos to /);
    expect(fake.original(await command(bob, 'kudos'))!.content).toMatch(/^You have 20 kudos/);
    await expectConsistentLedger(ts.horde.store);
  });

  it('answers refusals privately in words: adult content, cooldown, unserved model, upfront kudos', async () => {
    const { fake } = await start();
    await app.settings.update(guildPlace, { sfwPolicy: 'refuse' });
    const adultHere = await command(alice, 'draw', [option('prompt', 'a nude statue')]);
    expect(lastAnswer(adultHere)).toMatchObject({
      content: expect.stringMatching(/^Adult content is not allowed here/),
      flags: EPHEMERAL,
    });
    // The public "thinking…" gave way to the private answer.
    expect(fake.original(adultHere)).toBeUndefined();
    const adultThere = await command(alice, 'draw', [option('prompt', 'a nude statue')], ADULT);
    expect(fake.original(adultThere)!.content).toMatch(/^“a nude statue” — seed/);

    const tooSoon = await command(alice, 'draw', [option('prompt', 'a dog')]);
    expect(lastAnswer(tooSoon)).toMatchObject({
      content: 'Slow down a little: you can draw again in 10 s.',
      flags: EPHEMERAL,
    });

    const unserved = await command(bob, 'draw', [option('prompt', 'a cat'), option('model', 'Deliberate')]);
    expect(lastAnswer(unserved)).toMatchObject({
      content: 'No worker serves Deliberate right now. Served now: stable_diffusion.',
      flags: EPHEMERAL,
    });
    await app.settings.update(guildPlace, { maxSteps: 150 });
    clock.advance(60_000);
    const huge = await command(bob, 'draw', [
      option('prompt', 'a huge cat'),
      option('size', '1216x832'),
      option('steps', 150),
      option('count', 4),
    ]);
    expect(lastAnswer(huge)).toMatchObject({
      content: expect.stringMatching(
        /^That request is too big to run on credit\. It needs \d+ kudos upfront, and you have \d+\. Make it smaller/,
      ),
      flags: EPHEMERAL,
    });
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
