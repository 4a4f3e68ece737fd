/**
 * What only Telegram has, end to end: the real grammY long-polling (or behind a webhook) against the fake
 * Bot API, a real community horde (embedded client) and our worker node on the demo backend — updates that
 * do not wait for each other, answers for people who never started the bot, people named by reply or
 * @username, albums, inline mode, flood control, the webhook's secret, and the adapter inside an existing
 * Bot. The `/draw` walk, kudos and refusals are the adapter conformance suite's (`conformance.test.ts`).
 */
import type { ChatApp } from '@hordekit/adapters';
import { createTelegramAdapter, type TelegramAdapter } from '@hordekit/adapters/telegram';
import { type FakeTelegram, listen, startFakeTelegram, type UserInput } from '@hordekit/adapters/testing';
import { Bot } from 'grammy';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHorde } from '../support/chat-harness.js';
import { waitUntil } from '../support/horde-http.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import type { TestServer } from '../support/server.js';

const TOKEN = '123456:hordekit-test-token';
const SECRET = 'webhook-s3cret';
const GROUP = { id: -100_555, type: 'supergroup' as const, title: 'Artists' };
const ALICE: UserInput = { id: 1001, first_name: 'Alice', username: 'alice' };
const BOB: UserInput = { id: 1002, first_name: 'Bob', username: 'bob' };
const OLGA: UserInput = { id: 1003, first_name: 'Olga' };
const groupPlace = { platform: 'telegram' as const, placeId: String(GROUP.id) };

let harness: ChatHarness;
let ts: TestServer;
let app: ChatApp;
let fake: FakeTelegram;
let adapter: TelegramAdapter;
let errors: unknown[];

beforeEach(async () => {
  // 20 ms a step (0.6 s a picture): slow enough that a progress edit is always seen before the picture.
  harness = await startChatHorde({ stepDelayMs: 20 });
  ({ ts, app } = harness);
  // Alice has started the bot (she has a private chat with it); Bob has not. Olga created the group.
  fake = await startFakeTelegram({
    botUsername: 'horde_bot',
    token: TOKEN,
    chats: [GROUP, { id: ALICE.id, type: 'private', first_name: 'Alice' }],
    admins: { [GROUP.id]: [OLGA] },
  });
  errors = [];
  adapter = createTelegramAdapter({
    chat: app,
    token: TOKEN,
    apiRoot: fake.url,
    webhook: { secretToken: SECRET },
    // Short, so that the fast demo worker still leaves room for a progress edit.
    editIntervalMs: { private: 50, group: 50, inline: 50 },
    onError: (error) => errors.push(error),
  });
  await harness.waitForWorker();
});

afterEach(async () => {
  await adapter.stop();
  await adapter.idle();
  await harness.close();
  await fake.close();
  expect(errors).toEqual([]);
});

/** Waits until the bot has taken every injected update and finished what they started. */
async function settle(): Promise<void> {
  await waitUntil(async () => (fake.pendingUpdates().length === 0 ? true : undefined), 10_000);
  await adapter.idle();
}

async function say(from: UserInput, text: string, options: { replyTo?: number; private?: boolean } = {}) {
  const update = fake.sendUserMessage({
    from,
    text,
    ...(options.private ? {} : { chat: GROUP }),
    ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
  });
  await settle();
  return update.message!;
}

async function press(from: UserInput, message: Message, label: string): Promise<void> {
  fake.pressButton({ from, message, text: label });
  await settle();
}

const inGroup = () => fake.messages(GROUP.id);
const lastIn = (chatId: number) => fake.messages(chatId).at(-1);
const labels = (markup: InlineKeyboardMarkup | undefined) =>
  markup?.inline_keyboard.map((row) => row.map((button) => button.text));
const callbackData = (markup: InlineKeyboardMarkup | undefined, row = 0, column = 0) => {
  const button = markup?.inline_keyboard[row]?.[column];
  return button && 'callback_data' in button ? button.callback_data : undefined;
};
const photoBytes = (message: Message | { photo?: { file_id: string }[] } | undefined) =>
  fake.file(message?.photo?.at(-1)?.file_id ?? '');

/** The bytes the worker uploaded for the request's generations, in order. */
async function workerImages(requestId: string): Promise<Buffer[]> {
  const uploaded = await harness.uploadedImages(requestId);
  return uploaded.map((bytes) => Buffer.from(bytes ?? new Uint8Array()));
}

describe('the Telegram adapter', () => {
  it('a second /draw within the cooldown is answered while the first is drawn; what is for someone who never started the bot goes to the group, as a reply', async () => {
    await adapter.start();
    fake.sendUserMessage({
      chat: GROUP,
      from: ALICE,
      text: '/draw@horde_bot a lighthouse at dusk --seed 77',
    });
    fake.sendUserMessage({ chat: GROUP, from: ALICE, text: '/draw a dog' });
    await settle();
    expect(lastIn(ALICE.id)!.text).toBe('Slow down a little: you can draw again in 10 s.');
    // The second /draw was answered while the first was still being drawn.
    const refusedAt = fake.log.calls.findIndex((call) => call.body.chat_id === ALICE.id);
    const drawnAt = fake.log.calls.findIndex((call) => call.method === 'sendPhoto');
    expect(refusedAt).toBeGreaterThan(-1);
    expect(refusedAt).toBeLessThan(drawnAt);
    const result = inGroup().at(-1)!;
    expect(result.caption).toMatch(/^“a lighthouse at dusk” — seed 77 /);
    // Both commands asked whether Alice is an admin at once; from now on each person is asked once.
    const lookups = () => fake.log.of('getChatMember').map((call) => call.body.user_id);
    expect(new Set(lookups())).toEqual(new Set([ALICE.id]));
    const aliceLookups = lookups().length;

    // Delete by someone else: refused, in words. Bob never started the bot, so it is said in the group.
    await press(BOB, result, 'Delete');
    expect(lastIn(GROUP.id)).toMatchObject({
      text: 'Only the person who asked for it, or an admin, can delete it.',
      reply_to_message: { message_id: result.message_id },
    });
    expect(inGroup().some((message) => message.message_id === result.message_id)).toBe(true);
    await app.settings.update(groupPlace, { maxSteps: 150 });
    const asked = await say(BOB, '/draw a huge cat --size 1216x832 --steps 150 --count 4');
    expect(lastIn(GROUP.id)).toMatchObject({
      text: expect.stringMatching(
        /^That request is too big to run on credit\. It needs \d+ kudos upfront, and you have \d+\. Make it smaller/,
      ),
      reply_to_message: { message_id: asked.message_id },
    });

    // Once Bob has started the bot, what is meant for him alone goes to his private chat.
    await say(BOB, '/start', { private: true });
    expect(lastIn(BOB.id)?.text).toMatch(/^I draw pictures/);
    await press(BOB, result, 'Details');
    expect(lastIn(BOB.id)?.text).toMatch(/^Request .+\n1\. seed 77, stable_diffusion, worker demo-gpu$/);

    // The group's creator may delete anyone's picture.
    await press(OLGA, result, 'Delete');
    expect(inGroup().some((message) => message.message_id === result.message_id)).toBe(false);
    expect(lookups().slice(aliceLookups)).toEqual([BOB.id, OLGA.id]);
    await expectConsistentLedger(ts.horde.store);
  });

  it('sends several pictures as an album with a buttons message under it; Delete removes them all', async () => {
    await adapter.start();
    await say(ALICE, '/draw two foxes --count 2 --seed 5');
    const [, first, second, buttons] = inGroup();
    expect(inGroup()).toHaveLength(4);
    expect(first!.media_group_id).toBeDefined();
    expect(second!.media_group_id).toBe(first!.media_group_id);
    expect(buttons!.text).toMatch(/^“two foxes” — seed 5, \d+ · stable_diffusion/);
    expect(buttons!.reply_to_message?.message_id).toBe(first!.message_id);
    const requestId = String(callbackData(buttons!.reply_markup)).replace('draw:redo|', '');
    const uploaded = await workerImages(requestId);
    expect([photoBytes(first), photoBytes(second)]).toEqual(uploaded);
    await press(ALICE, buttons!, 'Delete');
    expect(inGroup()).toHaveLength(1);
  });

  it('/transfer names people by reply or @username; an unknown @name is explained; /kudos for someone who never started the bot is said in the group', async () => {
    await adapter.start();
    await say(ALICE, '/kudos', { private: true });
    const alias = lastIn(ALICE.id)!.text!.match(/account is (\S+)\./)![1]!;
    const aliceAccount = await ts.horde.findAccount(alias);
    await ts.horde.modifyAccount({ accountId: 1 }, aliceAccount!.id, { kudos: 100 });

    const bobSays = await say(BOB, 'nice cat!');
    await say(ALICE, '/transfer 20', { replyTo: bobSays.message_id });
    expect(lastIn(GROUP.id)!.text).toMatch(/^Alice sent 20 kudos to \S+\. Alice has \d+ left\.$/);
    await say(ALICE, '/transfer @bob 5');
    expect(lastIn(GROUP.id)!.text).toMatch(/^Alice sent 5 kudos to /);
    await say(ALICE, '/transfer @nobody 5');
    expect(lastIn(ALICE.id)!.text).toMatch(/^I don't know @nobody yet: they need to have used me first\./);
    await say(BOB, '/kudos');
    expect(lastIn(GROUP.id)).toMatchObject({
      text: expect.stringMatching(/^You have 25 kudos/),
      reply_to_message: { from: { id: BOB.id } },
    });
    await expectConsistentLedger(ts.horde.store);
  });

  it('inline mode: “Draw this” at once, then the inline message shows progress and the picture, flood control survived', async () => {
    await adapter.start();
    // The first progress edit hits Telegram's flood control; the adapter waits retry_after and retries.
    fake.floodNext('editMessageText', 1);
    fake.inlineQuery({ from: ALICE, query: 'a red fox' });
    await settle();
    const [offer] = fake.log.of('answerInlineQuery')[0]!.body.results as Record<string, unknown>[];
    expect(offer).toMatchObject({
      type: 'article',
      title: 'Draw this: a red fox',
      input_message_content: { message_text: '🎨 Drawing: a red fox…' },
      reply_markup: { inline_keyboard: [[{ text: '⏳ Drawing…' }]] },
    });

    const chosen = fake.chooseInlineResult({ from: ALICE, result_id: String(offer!.id), query: 'a red fox' });
    const inlineId = chosen.chosen_inline_result!.inline_message_id!;
    await settle();

    const edits = fake.log.of('editMessageText');
    expect(edits[0]!.body).toMatchObject({
      inline_message_id: inlineId,
      text: expect.stringMatching(/^Drawing “a red fox”: /),
    });
    expect(edits[1]!.body).toEqual(edits[0]!.body);
    expect(edits[1]!.at - edits[0]!.at).toBeGreaterThanOrEqual(1000);

    const shown = fake.inlineMessage(inlineId)!;
    expect(shown.caption).toMatch(/^“a red fox” — seed \d+ · stable_diffusion · drawn by demo-gpu/);
    expect(labels(shown.reply_markup)).toEqual([['Redo (new seed)', 'Details', 'Delete']]);
    const requestId = String(callbackData(shown.reply_markup)).replace('draw:redo|', '');
    const [uploaded] = await workerImages(requestId);
    expect(photoBytes(shown)?.equals(uploaded!)).toBe(true);
    // The upload that gave the picture its file_id is not left in Alice's private chat.
    expect(fake.messages(ALICE.id)).toEqual([]);

    // Her next inline query offers the picture again, by file_id.
    fake.inlineQuery({ from: ALICE, query: '' });
    await settle();
    const recent = fake.log.of('answerInlineQuery')[1]!.body.results as Record<string, unknown>[];
    expect(recent).toEqual([
      expect.objectContaining({ type: 'photo', photo_file_id: shown.photo!.at(-1)!.file_id }),
    ]);

    // Buttons work on inline messages too; what is for Alice alone goes to her private chat.
    fake.pressButton({ from: ALICE, inline_message_id: inlineId, text: 'Details' });
    await settle();
    expect(lastIn(ALICE.id)!.text).toMatch(/^Request .+\n1\. seed \d+, stable_diffusion, worker demo-gpu$/);

    // Bob never started the bot: there is nowhere to upload his picture from, so he is told how to fix it.
    fake.inlineQuery({ from: BOB, query: 'a blue boat' });
    await settle();
    const [bobOffer] = fake.log.of('answerInlineQuery')[2]!.body.results as Record<string, unknown>[];
    const bobChosen = fake.chooseInlineResult({
      from: BOB,
      result_id: String(bobOffer!.id),
      query: 'a blue boat',
    });
    await settle();
    const bobShown = fake.inlineMessage(bobChosen.chosen_inline_result!.inline_message_id!)!;
    expect(bobShown.text).toMatch(/^“a blue boat” — seed \d+ .+\n\nStart a private chat with me/);
    expect(labels(bobShown.reply_markup)).toEqual([['Redo (new seed)', 'Details', 'Delete']]);
  });

  it('runs inside an existing grammY Bot next to its own handlers, driven by bot.handleUpdate', async () => {
    const host = new Bot(TOKEN, { client: { apiRoot: fake.url } });
    host.command('ping', (ctx) => ctx.reply('pong'));
    const embedded = createTelegramAdapter({ chat: app, bot: host });
    const votes: string[] = [];
    host.on('callback_query:data', async (ctx) => {
      votes.push(ctx.callbackQuery.data);
      await ctx.answerCallbackQuery();
    });
    await host.init();
    await host.handleUpdate(fake.sendUserMessage({ from: ALICE, text: '/ping' }));
    await host.handleUpdate(fake.sendUserMessage({ from: ALICE, text: '/kudos' }));
    await embedded.idle();
    // Inside someone else's bot, /start stays theirs (here: unanswered).
    await host.handleUpdate(fake.sendUserMessage({ from: ALICE, text: '/start' }));
    await embedded.idle();
    expect(fake.messages(ALICE.id).map((message) => message.text)).toEqual([
      '/ping',
      'pong',
      '/kudos',
      expect.stringMatching(/^You have \d+ kudos/),
      '/start',
    ]);
    // Callback data that is not a plugin's button is passed on to the host's handlers.
    const poll = await host.api.sendMessage(ALICE.id, 'Like it?', {
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'vote|yes' }]] },
    });
    await host.handleUpdate(fake.pressButton({ from: ALICE, message: poll, text: 'Yes' }));
    expect(votes).toEqual(['vote|yes']);
  });

  it('serves webhooks behind Telegram’s secret token, and publishes the command menu', async () => {
    const handler = adapter.webhookHandler();
    const hook = await listen(new Hono().post('/telegram', (c) => handler(c.req.raw)));
    try {
      const url = `${hook.url}/telegram`;
      const update = fake.sendUserMessage({ from: ALICE, text: '/kudos' });
      expect((await fake.postUpdateTo(url, update, 'wrong-secret')).status).toBe(401);
      expect((await fake.postUpdateTo(url, update)).status).toBe(401);
      await adapter.idle();
      expect(fake.messages(ALICE.id)).toHaveLength(1);
      expect((await fake.postUpdateTo(url, update, SECRET)).status).toBe(200);
      await adapter.idle();
      expect(lastIn(ALICE.id)!.text).toMatch(/^You have \d+ kudos/);

      // Once the webhook is set, Telegram (the fake) delivers updates itself.
      await adapter.setWebhook(url);
      fake.sendUserMessage({ chat: GROUP, from: ALICE, text: '/draw a small boat' });
      await fake.webhookDeliveries();
      await adapter.idle();
      expect(lastIn(GROUP.id)!.caption).toMatch(/^“a small boat” — seed \d+/);
    } finally {
      await hook.close();
    }

    await adapter.setCommands();
    expect(fake.commands().map((command) => command.command)).toEqual([
      'draw',
      'kudos',
      'transfer',
      'models',
      'workers',
    ]);
  });
});
