/**
 * apps/examples end to end: the third-party `/style` plugin embedded in bots that already exist — a
 * discord.js `Client`, a grammY `Bot` and a Bolt `App`, each wired as in `apps/examples/src/*-bot.ts` and
 * keeping its own `/ping` — against the fake platforms, a real community horde and a demo worker. The
 * request the horde received carries the preset's prompt template and parameters, the answer carries the
 * worker's picture and a row of the other styles, and pressing one draws the prompt again in that style.
 */
import { type ChatApp, createChatApp } from '@hordekit/adapters';
import { createDiscordAdapter } from '@hordekit/adapters/discord';
import { createSlackAdapter, slackWhere } from '@hordekit/adapters/slack';
import { createTelegramAdapter } from '@hordekit/adapters/telegram';
import {
  type FakeMessage,
  type FakeSlackMessage,
  startFakeDiscord,
  startFakeSlack,
  startFakeTelegram,
} from '@hordekit/adapters/testing';
import { createEmbeddedClient } from '@hordekit/core';
import { blobImageReader } from '@hordekit/horde-server';
import type { ImageWorker } from '@hordekit/worker';
import { App, LogLevel } from '@slack/bolt';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { Bot } from 'grammy';
import type { Message } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PRESETS, stylePlugin } from '../../apps/examples/src/style-plugin.js';
import { startDemoWorker, uploadedBytes } from '../support/chat-harness.js';
import { waitUntil } from '../support/horde-http.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** What `/style` with `preset:watercolor prompt:"a harbour"` must send the horde, spelled out. */
const WATERCOLOR_HARBOUR = {
  prompt:
    'a harbour, watercolor painting, soft washes of colour, visible paper texture, loose brushwork' +
    ' ### photo, 3d render, harsh outlines, text, watermark',
  models: [],
  nsfw: false,
  censor_nsfw: true,
  params: { steps: 25, cfg_scale: 6, width: 512, height: 512, n: 1 },
};
const OTHER_STYLES = ['Pixel art', 'Cinematic', 'Line art', 'Anime', 'Oil painting'];
const CAPTION =
  /^Watercolor: “a harbour” — seed \d+ · stable_diffusion · drawn by demo-gpu · [\d.]+ kudos\.$/;

let ts: TestServer;
let worker: ImageWorker;
let chat: ChatApp;
/** Stops what a test started, last started first. */
let cleanup: (() => Promise<unknown>)[];

beforeEach(async () => {
  cleanup = [];
  ts = await startTestServer();
  ({ worker } = await startDemoWorker(ts));
  const client = createEmbeddedClient(ts.horde, { readImage: blobImageReader(ts.server.blobs) });
  chat = createChatApp({ horde: { client, mode: 'embedded' }, plugins: [stylePlugin()] });
});

afterEach(async () => {
  for (const stop of cleanup.reverse()) await stop();
  await worker.stop({ halt: true });
  await ts.close();
});

/** The request behind a `style:restyle` button: its payload is `<preset>|<request id>`. */
const requestOf = (payload: string) => payload.split('|').at(-1)!;

/** What the horde was asked for `requestId`. */
async function received(requestId: string) {
  const request = await ts.horde.store.getRequest(requestId);
  if (!request) throw new Error(`the horde has no request ${requestId}`);
  return request.body;
}

/** The horde's request for `prompt` in the preset named `name`, from the presets table. */
function styled(name: string, prompt: string) {
  const preset = PRESETS.find((candidate) => candidate.name === name)!;
  return {
    prompt: `${preset.template.replace('{p}', prompt)} ### ${preset.negative}`,
    params: { steps: preset.steps, cfg_scale: preset.cfgScale, width: preset.width, height: preset.height },
  };
}

const same = (bytes: Uint8Array | undefined, expected: Uint8Array | undefined) =>
  bytes !== undefined && expected !== undefined && Buffer.from(bytes).equals(Buffer.from(expected));

describe('the /style example plugin inside existing bots', () => {
  it('Discord: a discord.js Client keeps its /ping and serves /style with a row of other styles', async () => {
    const GUILD = '200000000000000001';
    const CHANNEL = '300000000000000001';
    const alice = { id: '400000000000000001', username: 'alice' };
    const fake = await startFakeDiscord({
      guilds: [{ id: GUILD, name: 'art', channels: [{ id: CHANNEL, name: 'general' }], members: [alice] }],
    });
    cleanup.push(() => fake.close());

    // The bot you already have, as in discord-bot.ts (here pointed at the fake).
    const client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: fake.apiUrl, retries: 0 },
    });
    client.on(Events.InteractionCreate, async (interaction) => {
      if (interaction.isChatInputCommand() && interaction.commandName === 'ping')
        await interaction.reply('pong');
    });
    const pingRegistered = new Promise((resolve) => {
      client.once(Events.ClientReady, async ({ application }) => {
        resolve(await application.commands.create({ name: 'ping', description: 'Replies pong' }, GUILD));
      });
    });
    cleanup.push(() => client.destroy());
    const discord = createDiscordAdapter({
      chat,
      client,
      token: 'fake-token',
      applicationId: fake.applicationId,
      guildId: GUILD,
      apiUrl: fake.apiUrl,
    });
    cleanup.push(async () => {
      await discord.idle();
      await discord.stop();
    });
    await discord.registerCommands();
    await client.login('fake-token');
    await pingRegistered;

    const commands = fake.commands(GUILD);
    expect(commands.map((command) => command.name).sort()).toEqual(['ping', 'style']);
    expect(commands.find((command) => command.name === 'style')!.options).toEqual([
      { name: 'prompt', description: 'What to draw', type: 3, required: true, max_length: 500 },
      expect.objectContaining({
        name: 'preset',
        type: 3,
        choices: expect.arrayContaining([{ name: 'Watercolor', value: 'watercolor' }]),
      }),
    ]);

    const ping = await fake.slashCommand({ guildId: GUILD, channelId: CHANNEL, user: alice, name: 'ping' });
    expect(await ping.acknowledged).toMatchObject({ type: 4, data: { content: 'pong' } });

    const started = await fake.slashCommand({
      guildId: GUILD,
      channelId: CHANNEL,
      user: alice,
      name: 'style',
      options: [
        { name: 'preset', type: 3, value: 'watercolor' },
        { name: 'prompt', type: 3, value: 'a harbour' },
      ],
    });
    expect((await started.acknowledged).type).toBe(5);
    await discord.idle();
    const result = fake.original(started.interaction.token)!;
    expect(result.content).toMatch(CAPTION);
    const buttons = buttonsOf(result);
    expect(buttons.map((button) => button.label)).toEqual(OTHER_STYLES);
    const requestId = requestOf(buttons[0]!.custom_id);
    expect(await received(requestId)).toMatchObject(WATERCOLOR_HARBOUR);
    expect(same(fake.file(result.attachments[0]!.id)?.bytes, await uploadedBytes(ts, requestId))).toBe(true);

    // Another style from the row: the same prompt, drawn again as a new message.
    const cinematic = buttons.find((button) => button.label === 'Cinematic')!;
    const pressed = await fake.pressButton({ message: result, custom_id: cinematic.custom_id, user: alice });
    expect((await pressed.acknowledged).type).toBe(6);
    await discord.idle();
    const again = fake.followups(pressed.interaction.token).at(-1)!;
    expect(again.content).toMatch(/^Cinematic: “a harbour” — seed \d+ /);
    expect(buttonsOf(again).map((button) => button.label)).toContain('Watercolor');
    expect(await received(requestOf(buttonsOf(again)[0]!.custom_id))).toMatchObject(
      styled('cinematic', 'a harbour'),
    );
  });

  it('Telegram: a grammY Bot keeps its /ping and serves /style with a row of other styles', async () => {
    const TOKEN = '123456:examples-token';
    const ALICE = { id: 1001, first_name: 'Alice', username: 'alice' };
    const fake = await startFakeTelegram({ botUsername: 'art_bot', token: TOKEN });
    cleanup.push(() => fake.close());

    // The bot you already have, as in telegram-bot.ts (here pointed at the fake).
    const bot = new Bot(TOKEN, { client: { apiRoot: fake.url } });
    bot.command('ping', (ctx) => ctx.reply('pong'));
    const telegram = createTelegramAdapter({ chat, bot });
    await new Promise<void>((resolve, reject) => {
      bot.start({ onStart: () => resolve() }).catch(reject);
    });
    cleanup.push(async () => {
      await bot.stop();
      await telegram.idle();
    });
    /** Waits until the bot has taken every update and finished what they started. */
    const settle = async () => {
      await waitUntil(async () => (fake.pendingUpdates().length === 0 ? true : undefined), 10_000);
      await telegram.idle();
    };
    const shown = () => fake.messages(ALICE.id).map((message) => message.text ?? message.caption);

    fake.sendUserMessage({ from: ALICE, text: '/ping' });
    await settle();
    fake.sendUserMessage({ from: ALICE, text: '/style a harbour --preset watercolor' });
    await settle();
    expect(shown()).toEqual([
      '/ping',
      'pong',
      '/style a harbour --preset watercolor',
      expect.stringMatching(CAPTION),
    ]);
    const result = fake.messages(ALICE.id).at(-1)!;
    expect(labelsOf(result)).toEqual([OTHER_STYLES]);
    const requestId = requestOf(callbackDataOf(result, 'Pixel art'));
    expect(await received(requestId)).toMatchObject(WATERCOLOR_HARBOUR);
    expect(same(fake.file(result.photo!.at(-1)!.file_id), await uploadedBytes(ts, requestId))).toBe(true);

    fake.pressButton({ from: ALICE, message: result, text: 'Line art' });
    await settle();
    const again = fake.messages(ALICE.id).at(-1)!;
    expect(again.caption).toMatch(/^Line art: “a harbour” — seed \d+ /);
    expect(await received(requestOf(callbackDataOf(again, 'Watercolor')))).toMatchObject(
      styled('line-art', 'a harbour'),
    );
  });

  it('Slack: a Bolt App keeps its /ping and serves /style with a row of other styles', async () => {
    const CHANNEL = 'C0GENERAL';
    const ALICE = 'U0ALICE';
    const BOB = 'U0BOB';
    const fake = await startFakeSlack({ users: { [ALICE]: { name: 'alice' }, [BOB]: { name: 'bob' } } });
    cleanup.push(() => fake.close());

    // The app you already have, as in slack-bot.ts (here pointed at the fake).
    const app = new App({
      token: fake.botToken,
      signingSecret: fake.signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
    });
    app.command('/ping', async ({ ack }) => {
      await ack('pong');
    });
    const slack = createSlackAdapter({ chat, bolt: app });
    const { port } = await slack.start({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => slack.stop());
    const url = `http://127.0.0.1:${port}`;
    const channelShows = () => fake.channel(CHANNEL).filter((message) => !message.ephemeral);

    const ping = await fake.slashCommand(url, { command: '/ping', user_id: ALICE, channel_id: CHANNEL });
    expect(ping.body).toBe('pong');

    const answer = await fake.slashCommand(url, {
      command: '/style',
      text: 'a harbour --preset watercolor',
      user_id: ALICE,
      channel_id: CHANNEL,
    });
    expect(answer.status).toBe(200);
    await slack.idle();
    const [result, ...others] = channelShows();
    expect(others).toEqual([]);
    expect(sectionText(result!)).toMatch(CAPTION);
    const buttons = slackButtonsOf(result!);
    expect(buttons.map((button) => button.text.text)).toEqual(OTHER_STYLES);
    const requestId = requestOf(buttons[0]!.value);
    expect(await received(requestId)).toMatchObject(WATERCOLOR_HARBOUR);
    expect(same(result!.files?.[0]?.bytes, await uploadedBytes(ts, requestId))).toBe(true);

    const anime = buttons.find((button) => button.text.text === 'Anime')!;
    await fake.blockAction(url, {
      user: ALICE,
      channel: CHANNEL,
      message_ts: result!.ts,
      action_id: anime.action_id,
      value: anime.value,
      block_id: anime.block_id,
    });
    await slack.idle();
    const again = channelShows().at(-1)!;
    expect(sectionText(again)).toMatch(/^Anime: “a harbour” — seed \d+ /);
    expect(await received(requestOf(slackButtonsOf(again)[0]!.value))).toMatchObject(
      styled('anime', 'a harbour'),
    );

    // `limited` with a `promptOption`: the framework's cooldown and prompt gate apply to /style too.
    const style = async (user: string, text: string) => {
      await fake.slashCommand(url, { command: '/style', text, user_id: user, channel_id: CHANNEL });
      await slack.idle();
      return fake.channel(CHANNEL).at(-1)!;
    };
    expect(await style(ALICE, 'a lighthouse')).toMatchObject({
      ephemeralTo: ALICE,
      text: expect.stringMatching(/^Slow down a little: you can draw again in \d+ s\.$/),
    });
    await chat.settings.update(slackWhere('T0TEAM', CHANNEL), { sfwPolicy: 'refuse' });
    expect(await style(BOB, 'a nude statue --preset oil-painting')).toMatchObject({
      ephemeralTo: BOB,
      text: expect.stringMatching(/^Adult content is not allowed here/),
    });
  });
});

function buttonsOf(message: FakeMessage): { label: string; custom_id: string }[] {
  return message.components.flatMap(
    (row) => (row.components ?? []) as { label: string; custom_id: string }[],
  );
}

function labelsOf(message: Message): string[][] | undefined {
  return message.reply_markup?.inline_keyboard.map((row) => row.map((button) => button.text));
}

function callbackDataOf(message: Message, label: string): string {
  const button = message.reply_markup?.inline_keyboard.flat().find((candidate) => candidate.text === label);
  if (!button || !('callback_data' in button) || !button.callback_data)
    throw new Error(`no "${label}" button`);
  return button.callback_data;
}

/** What a Slack client shows as the message's text: its section blocks. */
function sectionText(message: FakeSlackMessage): string {
  return (message.blocks ?? [])
    .map((block) => block as { type: string; text?: { text: string } })
    .filter((block) => block.type === 'section' && block.text)
    .map((block) => block.text!.text)
    .join('');
}

interface SlackButton {
  text: { text: string };
  action_id: string;
  value: string;
  block_id: string;
}

function slackButtonsOf(message: FakeSlackMessage): SlackButton[] {
  return (message.blocks ?? []).flatMap((block) => {
    const { type, block_id, elements } = block as {
      type: string;
      block_id: string;
      elements?: Omit<SlackButton, 'block_id'>[];
    };
    return type === 'actions' ? (elements ?? []).map((element) => ({ ...element, block_id })) : [];
  });
}
