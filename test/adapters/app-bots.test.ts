/**
 * `npm start` with chat credentials: the community horde process starts every bot whose credentials are
 * set — here all three, pointed at fake platform APIs through DISCORD_API_URL, TELEGRAM_API_ROOT and
 * SLACK_API_URL — and a /draw on each is served by the built-in demo worker. A half-configured bot is named.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FakeDiscord,
  type FakeSlack,
  type FakeTelegram,
  startFakeDiscord,
  startFakeSlack,
  startFakeTelegram,
} from '@hordekit/adapters/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, buildApp, startApp, stopApp } from '../support/app-process.js';
import { waitUntil } from '../support/horde-http.js';

const GUILD = '500000000000000001';
const CHANNEL = '500000000000000002';
const alice = { id: '400000000000000001', username: 'alice' };
const TELEGRAM_USER = { id: 1001, first_name: 'Alice', username: 'alice' };

let discord: FakeDiscord;
let telegram: FakeTelegram;
let slack: FakeSlack;
let app: AppProcess;
let dir: string;
let slackPort: number;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  buildApp();
  dir = mkdtempSync(join(tmpdir(), 'hordekit-app-bots-'));
  discord = await startFakeDiscord({
    guilds: [{ id: GUILD, channels: [{ id: CHANNEL }], members: [alice] }],
  });
  telegram = await startFakeTelegram();
  slack = await startFakeSlack();
  slackPort = await freePort();
  app = await startApp(dir, 30_000, {
    HORDEKIT_DEMO_WORKER: '1',
    DISCORD_TOKEN: 'fake-discord-token',
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_GUILD_ID: GUILD,
    DISCORD_API_URL: discord.apiUrl,
    TELEGRAM_BOT_TOKEN: '123:fake-telegram-token',
    TELEGRAM_API_ROOT: telegram.url,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_PORT: String(slackPort),
  });
  await waitUntil(async () => (/bot: +Slack/.test(app.output()) ? true : undefined), 20_000);
}, 60_000);

afterAll(async () => {
  await stopApp(app.child, 'SIGTERM');
  await Promise.all([discord.close(), telegram.close(), slack.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start with chat credentials', () => {
  it('starts each bot and says so', () => {
    expect(app.output()).toMatch(
      /bot: +Discord: commands registered for guild 500000000000000001, drawing on this horde/,
    );
    expect(app.output()).toMatch(/bot: +Telegram: @\w+ \(long polling\), drawing on this horde/);
    expect(app.output()).toMatch(
      new RegExp(`bot: +Slack: requests on port ${slackPort} \\(/slack/events\\)`),
    );
    expect(discord.commands(GUILD).map((command) => command.name)).toEqual(
      expect.arrayContaining(['draw', 'cancel', 'kudos', 'transfer', 'settings', 'worker', 'link']),
    );
  });

  it('Discord: /draw ends with the demo worker’s picture on the original response', async () => {
    const started = await discord.slashCommand({
      guildId: GUILD,
      channelId: CHANNEL,
      user: alice,
      name: 'draw',
      options: [{ name: 'prompt', type: 3, value: 'a lighthouse at dusk' }],
    });
    expect((await started.acknowledged).type).toBe(5);
    const original = await waitUntil(async () => {
      const message = discord.original(started.interaction.token);
      return message?.attachments.length ? message : undefined;
    }, 20_000);
    expect(original.content).toMatch(/^“a lighthouse at dusk” — seed \d+ · Demo Procedural \(not AI\)/);
  });

  it('Telegram: /draw in a private chat ends with a photo', async () => {
    telegram.sendUserMessage({ from: TELEGRAM_USER, text: '/draw a red fox' });
    const photo = await waitUntil(async () => {
      const message = telegram.messages(TELEGRAM_USER.id).find((entry) => entry.photo);
      return message ?? undefined;
    }, 20_000);
    expect(photo.caption).toMatch(/^“a red fox” — seed \d+/);
  });

  it('Slack: a signed /draw is acknowledged and ends with the picture shared in the channel', async () => {
    const channel = 'C0GENERAL';
    const answer = await slack.slashCommand(`http://127.0.0.1:${slackPort}`, {
      command: '/draw',
      text: 'a blue whale',
      user_id: 'U0ALICE',
      channel_id: channel,
    });
    expect(answer.status).toBe(200);
    expect(answer.ackMs).toBeLessThan(3000);
    await waitUntil(
      async () => (slack.channel(channel).some((message) => message.files?.length) ? true : undefined),
      20_000,
    );
  });
});

describe('a half-configured bot', () => {
  it('is named at start-up instead of silently ignored', async () => {
    const other = mkdtempSync(join(tmpdir(), 'hordekit-app-bots-bad-'));
    try {
      await expect(startApp(other, 20_000, { DISCORD_TOKEN: 'only-a-token' })).rejects.toThrow(
        /invalid environment: DISCORD_TOKEN needs DISCORD_APPLICATION_ID/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
