/**
 * The conformance driver of Telegram: grammY long-polling the fake Bot API, people writing commands in two
 * groups (the second one made adult by its setting) and pressing inline keyboard buttons. Everyone has
 * started the bot, so what is meant for one person goes to their private chat with it; what a person
 * sees last is the newest of the bot's messages in the group and in that private chat.
 */
import type { ChatApp } from '@hordekit/adapters';
import { CallbackCodec, createTelegramAdapter, type TelegramAdapter } from '@hordekit/adapters/telegram';
import {
  type DriverButton,
  type DriverMessage,
  type DriverPlace,
  type DriverUser,
  type FakeTelegram,
  type PlatformDriver,
  startFakeTelegram,
  type UserInput,
} from '@hordekit/adapters/testing';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import { expect } from 'vitest';
import { waitUntil } from '../horde-http.js';
import { commandText } from './command-text.js';

const TOKEN = '123456:hordekit-test-token';
const BOT = 'horde_bot';
const GROUPS: Record<DriverPlace, { id: number; type: 'supergroup'; title: string }> = {
  public: { id: -100_555, type: 'supergroup', title: 'Artists' },
  adult: { id: -100_666, type: 'supergroup', title: 'After dark' },
};
const PEOPLE: Record<DriverUser, UserInput & { username: string }> = {
  alice: { id: 1001, first_name: 'Alice', username: 'alice' },
  bob: { id: 1002, first_name: 'Bob', username: 'bob' },
  // The groups' creator.
  admin: { id: 1003, first_name: 'Olga', username: 'olga' },
};
const codec = new CallbackCodec();

function buttonsOf(markup: InlineKeyboardMarkup | undefined): DriverButton[] {
  return (markup?.inline_keyboard ?? []).flat().flatMap((button) => {
    const route = 'callback_data' in button ? codec.decode(button.callback_data ?? '') : undefined;
    // Telegram has no button styles.
    return route ? [{ label: button.text, ...route }] : [];
  });
}

export function telegramDriver(): PlatformDriver {
  let fake: FakeTelegram | undefined;
  let adapter: TelegramAdapter | undefined;
  let chat: ChatApp | undefined;
  const errors: unknown[] = [];
  /** The order in which the bot's messages appeared, across chats: `<chat>:<message>` → position. */
  const order = new Map<string, number>();
  /** The last command: its message, and the log's length when it was sent and when it was done. */
  let last = { chatId: 0, messageId: 0, from: 0, to: 0 };

  const started = () => {
    if (!fake || !adapter || !chat) throw new Error('telegram driver: not started');
    return { fake, adapter, chat };
  };
  const botMessages = (chatId: number) =>
    started()
      .fake.messages(chatId)
      .filter((message) => message.from?.is_bot);
  const key = (message: Message) => `${message.chat.id}:${message.message_id}`;
  const everyChat = [...Object.values(GROUPS), ...Object.values(PEOPLE)].map((chat) => chat.id);

  /** Numbers the bot's messages not seen before, chat by chat in message order. */
  function noteNewMessages() {
    for (const message of everyChat.flatMap(botMessages)) {
      if (!order.has(key(message))) order.set(key(message), order.size);
    }
  }

  const toDriver = (message: Message): DriverMessage => ({
    id: key(message),
    text: message.text ?? message.caption ?? '',
    images: message.photo ? [started().fake.file(message.photo.at(-1)!.file_id)!] : [],
    buttons: buttonsOf(message.reply_markup),
    private: message.chat.type === 'private',
    raw: message,
  });

  async function settle() {
    const { fake, adapter } = started();
    await waitUntil(async () => (fake.pendingUpdates().length === 0 ? true : undefined), 10_000);
    await adapter.idle();
    noteNewMessages();
    expect(errors).toEqual([]);
  }

  return {
    platform: 'telegram',
    users: {
      alice: { id: String(PEOPLE.alice.id), displayName: 'Alice' },
      bob: { id: String(PEOPLE.bob.id), displayName: 'Bob' },
      admin: { id: String(PEOPLE.admin.id), displayName: 'Olga' },
    },
    places: {
      public: { platform: 'telegram', placeId: String(GROUPS.public.id) },
      adult: { platform: 'telegram', placeId: String(GROUPS.adult.id) },
    },
    editIntervalMs: 50,

    async start(chatApp) {
      chat = chatApp;
      fake = await startFakeTelegram({
        botUsername: BOT,
        token: TOKEN,
        chats: [
          ...Object.values(GROUPS),
          ...Object.values(PEOPLE).map((person) => ({
            id: person.id,
            type: 'private' as const,
            first_name: person.first_name,
          })),
        ],
        admins: { [GROUPS.public.id]: [PEOPLE.admin], [GROUPS.adult.id]: [PEOPLE.admin] },
      });
      adapter = createTelegramAdapter({
        chat: chatApp,
        token: TOKEN,
        apiRoot: fake.url,
        // Short, so that a quick demo job still leaves room for a progress edit.
        editIntervalMs: { private: 50, group: 50, inline: 50 },
        onError: (error) => errors.push(error),
      });
      await adapter.start();
      // Everyone has started the bot (so it may write to them privately, and knows their @username).
      for (const person of Object.values(PEOPLE)) fake.sendUserMessage({ from: person, text: '/start' });
      await settle();
    },
    async stop() {
      await adapter?.stop();
      await adapter?.idle();
      await fake?.close();
    },

    async command(user, name, options = {}, where = 'public') {
      const { fake, chat } = started();
      const text = commandText(chat, name, options, (person) => `@${PEOPLE[person].username}`);
      const before = fake.log.calls.length;
      const injectedAt = Date.now();
      const update = fake.sendUserMessage({
        chat: GROUPS[where],
        from: PEOPLE[user],
        text: `/${name}@${BOT} ${text}`.trimEnd(),
      });
      await settle();
      last = {
        chatId: GROUPS[where].id,
        messageId: update.message!.message_id,
        from: before,
        to: fake.log.calls.length,
      };
      // Telegram has no deferred replies: the chat action ("sending a photo…") is the acknowledgement, the
      // first thing the bot does after the update.
      const ack = fake.log.calls.slice(before).find((call) => call.method !== 'getUpdates');
      const limited = chat.commands.find((command) => command.name === name)?.limited === true;
      expect(ack).toMatchObject({
        method: 'sendChatAction',
        body: { chat_id: GROUPS[where].id, action: limited ? 'upload_photo' : 'typing' },
      });
      return { ackMs: ack!.at - injectedAt };
    },

    async press(user, message, label) {
      const { fake } = started();
      const before = fake.log.calls.length;
      const update = fake.pressButton({ from: PEOPLE[user], message: message.raw as Message, text: label });
      await settle();
      // The press is answered (the button stops spinning).
      expect(
        fake.log.calls
          .slice(before)
          .filter((call) => call.method === 'answerCallbackQuery')
          .map((call) => call.body.callback_query_id),
      ).toEqual([update.callback_query!.id]);
    },

    async lastMessageFor(user, where = 'public') {
      noteNewMessages();
      // The place, and the person's private chat with the bot.
      const seen = [GROUPS[where].id, PEOPLE[user].id].flatMap(botMessages);
      const newest = seen.sort((a, b) => order.get(key(a))! - order.get(key(b))!).at(-1);
      if (!newest) throw new Error(`${user} sees no message in ${where}`);
      return toDriver(newest);
    },

    async publicMessages(where = 'public') {
      return botMessages(GROUPS[where].id).map(toDriver);
    },

    async lastProgress() {
      const { fake } = started();
      const calls = fake.log.calls.slice(last.from, last.to);
      // The progress message replies to the command; it is edited, and deleted once the photo is sent
      // (Telegram cannot turn a text message into a photo).
      const first = calls.find(
        (call) =>
          call.method === 'sendMessage' &&
          call.body.chat_id === last.chatId &&
          (call.body.reply_parameters as { message_id?: number } | undefined)?.message_id === last.messageId,
      );
      if (!first) return [];
      const edits = calls.filter(
        (call) => call.method === 'editMessageText' && call.body.chat_id === last.chatId,
      );
      const progressIds = new Set(edits.map((call) => call.body.message_id));
      expect(progressIds.size).toBeLessThanOrEqual(1);
      expect(calls.filter((call) => call.method === 'deleteMessage').map((call) => call.body)).toContainEqual(
        expect.objectContaining({ chat_id: last.chatId, message_id: [...progressIds][0] }),
      );
      return [first, ...edits].map((call, index) => ({
        id: `progress-${index}`,
        text: String(call.body.text),
        images: [],
        buttons: buttonsOf(call.body.reply_markup as InlineKeyboardMarkup | undefined),
        private: false,
        raw: call.body,
      }));
    },

    async makeAdult(chatApp) {
      // Telegram marks no chat adult: an admin allows it per chat.
      await chatApp.settings.update(
        { platform: 'telegram', placeId: String(GROUPS.adult.id) },
        { adult: true },
      );
    },
    settle,

    expectRendered(result) {
      const raw = result.raw as Message;
      // The photo answers the command it was drawn for.
      expect(raw.chat.id).toBe(last.chatId);
      expect(raw.reply_to_message?.message_id).toBe(last.messageId);
      expect(raw.photo).toBeDefined();
    },
  };
}
