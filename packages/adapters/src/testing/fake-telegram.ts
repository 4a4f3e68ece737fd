/**
 * A fake Telegram Bot API for tests: grammY (or any client) talks to it over loopback HTTP
 * (`new Bot(token, { client: { apiRoot: fake.url } })`), tests inject what users do (messages, button
 * presses, inline queries) and read back what the chats show now. It answers like the real server,
 * including its errors ("message is not modified", 429 flood control, "chat not found").
 *
 * The method handlers and state live in `./telegram/`; this file wires them to HTTP.
 */
import type { BotCommand, BotCommandScope, Chat, Message, Update } from 'grammy/types';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CallLog, listen, type RecordedApiCall } from './fake-server.js';
import { botMethods } from './telegram/bot.js';
import { chatMethods } from './telegram/chat.js';
import { editMethods } from './telegram/edit.js';
import { BotApiError, DESCRIPTIONS, type ResponseParameters, tooManyRequests } from './telegram/errors.js';
import {
  type ButtonPressInput,
  type ChosenInlineResultInput,
  type InlineQueryInput,
  UpdateFactory,
  type UserInput,
  type UserMessageInput,
} from './telegram/inject.js';
import { type Params, readParams } from './telegram/params.js';
import { sendMethods } from './telegram/send.js';
import { type ChatInput, type InlineMessage, type MethodHandler, TelegramWorld } from './telegram/state.js';
import { postUpdate, type WebhookConfig } from './telegram/updates.js';

export { testPng } from './telegram/image.js';
export type {
  ButtonPressInput,
  ChatInput,
  ChosenInlineResultInput,
  InlineMessage,
  InlineQueryInput,
  UserInput,
  UserMessageInput,
  WebhookConfig,
};

export interface FakeTelegramOptions {
  /** The bot's username, as `getMe` reports it. @default 'hordekit_test_bot' */
  botUsername?: string;
  /** The bot's user id. @default 7000000001 */
  botId?: number;
  /** @default 'Hordekit Test Bot' */
  botFirstName?: string;
  /** When set, requests with any other token get 401 Unauthorized. @default any token is accepted */
  token?: string;
  /** Chats that exist before anyone writes (a bot can only send to chats that exist). @default [] */
  chats?: ChatInput[];
  /** Administrators per chat id; the first is the chat's creator. @default {} */
  admins?: Record<number, UserInput[]>;
  /** The clock for message dates, in milliseconds. @default Date.now */
  now?: () => number;
}

export interface InjectedError {
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

export interface FakeTelegram {
  /** The `apiRoot` for grammY. */
  readonly url: string;
  /** Every API call, in order, with its parsed parameters (files as `{ filename, type, bytes }`). */
  readonly log: CallLog;
  /** The bot token a logged call was made with. */
  tokenOf(call: RecordedApiCall): string | undefined;
  /** What the chat shows now, oldest first: user and bot messages, edits applied, deletions gone. */
  messages(chatId: number): Message[];
  inlineMessage(inlineMessageId: string): InlineMessage | undefined;
  /** The bytes of an uploaded (or downloaded) file. */
  file(fileId: string): Buffer | undefined;
  /** The command menu for a scope and language. @default the default scope, all languages */
  commands(scope?: BotCommandScope, languageCode?: string): BotCommand[];
  /** Updates queued for getUpdates and not yet confirmed. */
  pendingUpdates(): Update[];
  /** The webhook set by `setWebhook`; while set, injected updates are POSTed to it instead of queued. */
  webhook(): WebhookConfig | undefined;
  /** Resolves once every update pushed to the webhook so far has been delivered. */
  webhookDeliveries(): Promise<void>;
  addChat(chat: ChatInput): Chat;
  setAdmins(chatId: number, admins: UserInput[]): void;
  /** A user writes in a chat → a `message` update (`channel_post` in channels). */
  sendUserMessage(input: UserMessageInput): Update;
  /** A user presses an inline keyboard button → a `callback_query` update. */
  pressButton(input: ButtonPressInput): Update;
  /** A user types `@bot query` → an `inline_query` update. */
  inlineQuery(input: InlineQueryInput): Update;
  /** A user picks one of the bot's inline results → a `chosen_inline_result` update. */
  chooseInlineResult(input: ChosenInlineResultInput): Update;
  /** POSTs an update to a webhook as Telegram does (`X-Telegram-Bot-Api-Secret-Token` when given). */
  postUpdateTo(webhookUrl: string, update: Update, secretToken?: string): Promise<Response>;
  /** The next `count` calls of `method` fail with 429 and `parameters.retry_after`. */
  floodNext(method: string, retryAfterSeconds: number, count?: number): void;
  /** The next `count` calls of `method` fail with this error (403 "bot was blocked by the user", …). */
  failNext(method: string, error: InjectedError, count?: number): void;
  close(): Promise<void>;
}

const METHODS: Record<string, MethodHandler> = {
  ...botMethods,
  ...sendMethods,
  ...editMethods,
  ...chatMethods,
};
/** The Bot API matches method names case-insensitively. */
const METHOD_NAMES = new Map(Object.keys(METHODS).map((name) => [name.toLowerCase(), name]));

export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const world = new TelegramWorld({
    botId: options.botId ?? 7_000_000_001,
    botUsername: options.botUsername ?? 'hordekit_test_bot',
    botFirstName: options.botFirstName ?? 'Hordekit Test Bot',
    now: options.now ?? Date.now,
  });
  const toUser = (user: UserInput) => ({ ...user, is_bot: false });
  for (const chat of options.chats ?? []) world.addChat(chat);
  for (const [chatId, admins] of Object.entries(options.admins ?? {})) {
    world.addChat({ id: Number(chatId), type: Number(chatId) < 0 ? 'supergroup' : 'private' });
    world.setAdmins(Number(chatId), admins.map(toUser));
  }
  const updates = new UpdateFactory(world);
  const log = new CallLog();
  const tokens = new WeakMap<RecordedApiCall, string>();
  const failures = new Map<string, BotApiError[]>();

  const app = new Hono();
  app.get('/file/:bot/*', (c) => {
    const prefix = `/file/${c.req.param('bot')}/`;
    const file = world.fileByPath(decodeURIComponent(c.req.path.slice(prefix.length)));
    if (!file) return c.json({ ok: false, error_code: 404, description: 'Not Found' }, 404);
    return c.body(new Uint8Array(file.bytes), 200, { 'content-type': file.mime_type });
  });
  app.on(['GET', 'POST'], '/:bot/:method', async (c) => {
    const bot = c.req.param('bot');
    const sentMethod = c.req.param('method');
    const method = METHOD_NAMES.get(sentMethod.toLowerCase()) ?? sentMethod;
    let params: Params = {};
    let parseError: unknown;
    try {
      params = await readParams(c.req.raw);
    } catch (error) {
      parseError = error;
    }
    const call = log.record(method, params);
    tokens.set(call, bot.slice('bot'.length));
    try {
      if (parseError) throw parseError;
      if (!bot.startsWith('bot')) throw new BotApiError(404, 'Not Found');
      if (options.token !== undefined && bot !== `bot${options.token}`) {
        throw new BotApiError(401, DESCRIPTIONS.unauthorized);
      }
      const injected = failures.get(method)?.shift();
      if (injected) throw injected;
      const handler = METHODS[method];
      if (!handler) throw new BotApiError(404, DESCRIPTIONS.methodNotFound);
      const result = await handler({ params, world, signal: c.req.raw.signal });
      return c.json({ ok: true, result });
    } catch (error) {
      if (!(error instanceof BotApiError)) throw error;
      return c.json(error.toJSON(), error.errorCode as ContentfulStatusCode);
    }
  });
  app.onError((error, c) =>
    c.json({ ok: false, error_code: 500, description: `Internal Server Error: ${error.message}` }, 500),
  );

  const server = await listen(app);
  const queueFailure = (method: string, error: BotApiError, count: number) => {
    const queue = failures.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(error);
    failures.set(method, queue);
  };

  return {
    url: server.url,
    log,
    tokenOf: (call) => tokens.get(call),
    messages: (chatId) => world.messages(chatId),
    inlineMessage: (id) => {
      const message = world.inlineMessages.get(id);
      return message && structuredClone(message);
    },
    file: (fileId) => world.file(fileId)?.bytes,
    commands: (scope = { type: 'default' }, languageCode = '') =>
      structuredClone(world.commands.get(JSON.stringify([scope, languageCode])) ?? []),
    pendingUpdates: () => structuredClone([...world.updates.pending]),
    webhook: () => world.updates.webhook,
    webhookDeliveries: () => world.updates.deliveriesSettled(),
    addChat: (chat) => world.addChat(chat),
    setAdmins: (chatId, admins) => world.setAdmins(chatId, admins.map(toUser)),
    sendUserMessage: (input) => updates.userMessage(input),
    pressButton: (input) => updates.buttonPress(input),
    inlineQuery: (input) => updates.inlineQuery(input),
    chooseInlineResult: (input) => updates.chosenInlineResult(input),
    postUpdateTo: (webhookUrl, update, secretToken) => postUpdate(webhookUrl, update, secretToken),
    floodNext: (method, retryAfterSeconds, count = 1) =>
      queueFailure(method, tooManyRequests(retryAfterSeconds), count),
    failNext: (method, error, count = 1) =>
      queueFailure(method, new BotApiError(error.error_code, error.description, error.parameters), count),
    close: async () => {
      world.updates.close();
      await server.close();
    },
  };
}
