/**
 * The chat bots of `npm start`: every adapter whose credentials are in the environment (Discord, Telegram,
 * Slack), all serving one chat app — /draw, /kudos, /transfer, /models, /workers — backed by this horde
 * (embedded) or, with HORDE_REMOTE_URL, by any remote AI Horde. Place settings live in the horde's own
 * SQLite file (its keyv table).
 */
import {
  accountPlugin,
  type ChatLogger,
  cancelPlugin,
  createChatApp,
  createRemoteClient,
  drawPlugin,
  kudosPlugin,
  SettingsStore,
  settingsPlugin,
} from '@hordekit/adapters';
import { createDiscordAdapter } from '@hordekit/adapters/discord';
import { createSlackAdapter } from '@hordekit/adapters/slack';
import { createTelegramAdapter } from '@hordekit/adapters/telegram';
import { createEmbeddedClient, type Horde } from '@hordekit/core';
import { type BlobStore, blobImageReader } from '@hordekit/horde-server';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import type { Env } from './env.js';

export interface Bots {
  /** One line per running bot, for the start-up summary. */
  readonly started: string[];
  stop(): Promise<void>;
}

interface Running {
  name: string;
  stop(): Promise<void>;
}

export async function startBots(options: {
  env: Env;
  horde: Horde;
  /** Where chat settings and linked accounts persist. */
  keyv: KeyvStoreAdapter;
  blobs: BlobStore;
  logger: ChatLogger;
  /** This horde's address, for the command line /worker sends. */
  hordeUrl: string;
  /** Encrypts the AI Horde keys people link in remote mode. */
  secret: string;
}): Promise<Bots> {
  const { env } = options;
  const wanted = env.DISCORD_TOKEN || env.TELEGRAM_BOT_TOKEN || env.SLACK_BOT_TOKEN;
  if (!wanted) return { started: [], stop: async () => {} };

  const keyvStore = options.keyv;
  const settings = new SettingsStore(new Keyv({ store: keyvStore, namespace: 'chat-settings' }));
  // Link codes and linked keys in a namespace of their own (a Telegram DM's settings key equals its user's).
  const accounts = accountPlugin({
    hordeUrl: env.HORDE_REMOTE_URL ?? options.hordeUrl,
    keyv: new Keyv({ store: keyvStore, namespace: 'chat-accounts' }),
    secret: options.secret,
  });
  const client = env.HORDE_REMOTE_URL
    ? createRemoteClient({
        url: env.HORDE_REMOTE_URL,
        apiKey: env.HORDE_REMOTE_API_KEY,
        keyFor: accounts.linkedKeyFor,
      })
    : createEmbeddedClient(options.horde, { readImage: blobImageReader(options.blobs) });
  const draw = drawPlugin();
  const chat = createChatApp({
    horde: { client, mode: env.HORDE_REMOTE_URL ? 'remote' : 'embedded' },
    plugins: [
      draw,
      cancelPlugin({ requests: draw.requests }),
      kudosPlugin(),
      settingsPlugin({ store: settings }),
      accounts,
    ],
    settings,
    logger: options.logger,
  });
  const where = env.HORDE_REMOTE_URL ? `the horde at ${env.HORDE_REMOTE_URL}` : 'this horde';
  const running: Running[] = [];
  const started: string[] = [];
  try {
    if (env.DISCORD_TOKEN && env.DISCORD_APPLICATION_ID) {
      const discord = createDiscordAdapter({
        chat,
        token: env.DISCORD_TOKEN,
        applicationId: env.DISCORD_APPLICATION_ID,
        guildId: env.DISCORD_GUILD_ID,
        apiUrl: env.DISCORD_API_URL,
      });
      await discord.start();
      running.push({ name: 'discord', stop: () => discord.stop() });
      const scope = env.DISCORD_GUILD_ID ? `guild ${env.DISCORD_GUILD_ID}` : 'every guild (global commands)';
      started.push(`Discord: commands registered for ${scope}, drawing on ${where}`);
    }
    if (env.TELEGRAM_BOT_TOKEN) {
      const telegram = createTelegramAdapter({
        chat,
        token: env.TELEGRAM_BOT_TOKEN,
        apiRoot: env.TELEGRAM_API_ROOT,
      });
      await telegram.setCommands();
      await telegram.start();
      running.push({ name: 'telegram', stop: () => telegram.stop() });
      started.push(`Telegram: @${telegram.bot.botInfo.username} (long polling), drawing on ${where}`);
    }
    if (env.SLACK_BOT_TOKEN) {
      const slack = createSlackAdapter({
        chat,
        token: env.SLACK_BOT_TOKEN,
        signingSecret: env.SLACK_SIGNING_SECRET,
        appToken: env.SLACK_APP_TOKEN,
        apiUrl: env.SLACK_API_URL,
      });
      const { port } = await slack.start({ port: env.SLACK_PORT, host: env.HORDEKIT_HOST });
      running.push({ name: 'slack', stop: () => slack.stop() });
      started.push(
        env.SLACK_APP_TOKEN
          ? `Slack: Socket Mode, drawing on ${where}`
          : `Slack: requests on port ${port} (/slack/events), drawing on ${where}`,
      );
    }
  } catch (error) {
    for (const bot of running) await bot.stop().catch(() => undefined);
    throw error;
  }
  return {
    started,
    stop: async () => {
      for (const bot of running.reverse()) await bot.stop().catch(() => undefined);
    },
  };
}
