/**
 * `createTelegramAdapter`: a chat app served on Telegram with grammY. Standalone (the adapter makes the
 * `Bot` from a token; `start()` long-polls) or inside an existing grammY `Bot` (its handlers are
 * registered on it; the host keeps running the bot its own way). Webhooks: mount `webhookHandler()` on a
 * Hono route; grammY checks Telegram's secret-token header. Polling and webhooks both feed
 * `bot.handleUpdate`, and from there every invocation runs detached (see `kit.ts`).
 */
import { Bot, webhookCallback } from 'grammy';
import type { ChatApp } from '../framework/app.js';
import { type FloodRetryOptions, floodRetry } from './flood.js';
import { registerButtons, registerCommands, registerHelp, telegramCommandName } from './handlers.js';
import { registerInline } from './inline.js';
import { type EditIntervals, type Kit, taskTracker } from './kit.js';
import { TelegramMemory } from './memory.js';
import { Messenger } from './messages.js';
import { CallbackCodec } from './render.js';

export interface TelegramAdapterOptions {
  chat: ChatApp;
  /** The bot token from BotFather. Not needed when `bot` is given. */
  token?: string;
  /**
   * The Bot API server (`TELEGRAM_API_ROOT`): Telegram's own local Bot API server, or a fake in tests.
   * Only for a bot the adapter makes. @default 'https://api.telegram.org'
   */
  apiRoot?: string;
  /** An existing grammY bot to serve the chat app on; the adapter registers its handlers on it. */
  bot?: Bot;
  /** Webhook mode: Telegram sends this secret in `X-Telegram-Bot-Api-Secret-Token` (1–256 of A-Z a-z 0-9 _ -). */
  webhook?: { secretToken: string };
  /** Shortest time between two edits of one message, per kind of chat. */
  editIntervalMs?: Partial<EditIntervals>;
  /**
   * Inline mode (`@bot a prompt` in any chat), served by the command `command`. `uploadChatId`: a chat the
   * bot may post in (a private channel) where pictures for inline messages are uploaded; by default the
   * requester's private chat with the bot, which needs them to have started it. `false` switches it off.
   * @default { command: 'draw' } (off when the chat app has no such command)
   */
  inline?: false | { command?: string; uploadChatId?: number };
  /** How long a chat-admin answer of getChatMember is trusted. @default 300000 (5 minutes) */
  adminCacheMs?: number;
  /** Retries after Telegram's 429 flood control, for every call of `bot.api`; `false`: none. @default {} */
  flood?: FloodRetryOptions | false;
  /** Answer /start and /help with the list of commands. @default true, or false when `bot` is given */
  help?: boolean;
  /** Failures nobody else hears of (a detached invocation that threw, a failed acknowledgement). @default console.error */
  onError?: (error: unknown) => void;
}

export interface TelegramAdapter {
  readonly bot: Bot;
  /** Long polling; resolves once polling runs. */
  start(): Promise<void>;
  /** Stops polling (invocations already running go on: `idle()` waits for them). */
  stop(): Promise<void>;
  /** A fetch-style handler for webhooks, e.g. `app.post('/telegram', (c) => handler(c.req.raw))`. */
  webhookHandler(): (request: Request) => Promise<Response>;
  /** Points Telegram's webhook at `url` with the secret token. */
  setWebhook(url: string): Promise<void>;
  /** Publishes the command menu (setMyCommands) from `chat.commands`. */
  setCommands(): Promise<void>;
  /** Resolves once every invocation started so far has finished (tests, graceful shutdown). */
  idle(): Promise<void>;
}

export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  const bot = options.bot ?? newBot(options);
  const report = options.onError ?? ((error: unknown) => console.error('telegram adapter:', error));
  if (!options.bot) bot.catch((error) => report(error.error));
  if (options.flood !== false) bot.api.config.use(floodRetry(options.flood ?? {}));
  const tasks = taskTracker(report);
  const memory = new TelegramMemory();
  const codec = new CallbackCodec();
  const inlineOptions = options.inline === false ? undefined : (options.inline ?? {});
  const kit: Kit = {
    app: options.chat,
    bot,
    messenger: new Messenger(bot.api, codec, memory, inlineOptions?.uploadChatId),
    codec,
    memory,
    lookup: { api: bot.api, memory, cacheMs: options.adminCacheMs ?? 300_000, now: Date.now },
    intervals: {
      private: options.editIntervalMs?.private ?? 1000,
      group: options.editIntervalMs?.group ?? 3000,
      inline: options.editIntervalMs?.inline ?? 3000,
    },
    track: tasks.track,
    report,
  };

  registerCommands(kit);
  registerButtons(kit);
  const inlineCommand = inlineOptions
    ? options.chat.commands.find((command) => command.name === (inlineOptions.command ?? 'draw'))
    : undefined;
  if (inlineCommand) registerInline(kit, inlineCommand);
  if (options.help ?? !options.bot) registerHelp(kit, inlineCommand !== undefined);

  let polling: Promise<void> | undefined;
  return {
    bot,
    start: () =>
      new Promise<void>((resolve, reject) => {
        if (polling) return resolve();
        polling = bot.start({ onStart: () => resolve() }).catch((error: unknown) => {
          polling = undefined;
          reject(error);
          report(error);
        });
      }),
    async stop() {
      if (bot.isRunning()) await bot.stop();
      await polling;
      polling = undefined;
    },
    webhookHandler() {
      if (!options.webhook)
        throw new Error('createTelegramAdapter: webhookHandler() needs webhook.secretToken');
      return webhookCallback(bot, 'std/http', { secretToken: options.webhook.secretToken });
    },
    async setWebhook(url) {
      if (!options.webhook) throw new Error('createTelegramAdapter: setWebhook() needs webhook.secretToken');
      await bot.api.setWebhook(url, { secret_token: options.webhook.secretToken });
    },
    async setCommands() {
      await bot.api.setMyCommands(
        options.chat.commands.map((command) => ({
          command: telegramCommandName(command.name),
          description: command.description,
        })),
      );
    },
    idle: tasks.idle,
  };
}

function newBot(options: TelegramAdapterOptions): Bot {
  if (!options.token) throw new Error('createTelegramAdapter: give a token or a bot');
  return new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});
}
