/**
 * The fake Telegram Bot API, driven by the real grammY over loopback HTTP: what grammY sends, what the
 * fake answers, and what the chats show afterwards.
 */
import { Bot, GrammyError, InlineKeyboard, InputFile, webhookCallback } from 'grammy';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listen } from './fake-server.js';
import { type FakeTelegram, startFakeTelegram, testPng } from './fake-telegram.js';

const TOKEN = '123456:test-token';
const ALICE = { id: 42, first_name: 'Alice', username: 'alice' };
const GROUP = { id: -100777, type: 'supergroup' as const, title: 'Artists' };
/** A real 1×1 lossless WebP. */
const WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

let fake: FakeTelegram;
let bot: Bot;

beforeEach(async () => {
  fake = await startFakeTelegram({ botUsername: 'horde_bot', chats: [{ id: ALICE.id, type: 'private' }] });
  bot = new Bot(TOKEN, { client: { apiRoot: fake.url } });
});
afterEach(async () => {
  await fake.close();
});

/** Runs `fn` and returns the GrammyError it throws. */
async function grammyError(fn: () => Promise<unknown>): Promise<GrammyError> {
  const error = await fn().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

describe('sending', () => {
  it('answers getMe for bot.init() and records the token', async () => {
    await bot.init();
    expect(bot.botInfo).toMatchObject({ username: 'horde_bot', is_bot: true, id: 7_000_000_001 });
    const call = fake.log.of('getMe')[0]!;
    expect(fake.tokenOf(call)).toBe(TOKEN);
  });

  it('sends text messages with per-chat message ids and refuses unknown chats', async () => {
    const first = await bot.api.sendMessage(ALICE.id, 'hello');
    const second = await bot.api.sendMessage(ALICE.id, 'again');
    expect(first).toMatchObject({ message_id: 1, chat: { id: ALICE.id, type: 'private' }, text: 'hello' });
    expect(first.from).toMatchObject({ id: 7_000_000_001, is_bot: true, username: 'horde_bot' });
    expect(second.message_id).toBe(2);
    expect(fake.log.of('sendMessage')[0]!.body).toEqual({ chat_id: ALICE.id, text: 'hello' });
    expect((await grammyError(() => bot.api.sendMessage(999, 'hi'))).description).toBe(
      'Bad Request: chat not found',
    );
    expect((await grammyError(() => bot.api.sendMessage(ALICE.id, ' '))).description).toBe(
      'Bad Request: message text is empty',
    );
  });

  it('parses parse_mode HTML into entities and rejects unescaped markup', async () => {
    const sent = await bot.api.sendMessage(
      ALICE.id,
      '<b>a cat</b> &lt;3 <a href="https://x.test/?a=1&amp;b=2">link</a>',
      {
        parse_mode: 'HTML',
      },
    );
    expect(sent.text).toBe('a cat <3 link');
    expect(sent.entities).toEqual([
      { type: 'bold', offset: 0, length: 5 },
      { type: 'text_link', offset: 9, length: 4, url: 'https://x.test/?a=1&b=2' },
    ]);
    const error = await grammyError(() =>
      bot.api.sendMessage(ALICE.id, 'a <cat> on a mat', { parse_mode: 'HTML' }),
    );
    expect(error.description).toBe(
      `Bad Request: can't parse entities: Unsupported start tag "cat" at byte offset 2`,
    );
  });

  it('uploads a photo as multipart and stores exactly those bytes', async () => {
    const keyboard = new InlineKeyboard().text('Again', 'again:1');
    const sent = await bot.api.sendPhoto(ALICE.id, new InputFile(WEBP, 'a.webp'), {
      caption: 'a cat',
      reply_markup: keyboard,
    });
    const photo = sent.photo?.at(-1);
    expect(photo).toMatchObject({ width: 1, height: 1, file_size: WEBP.length });
    expect(sent).toMatchObject({
      caption: 'a cat',
      reply_markup: { inline_keyboard: [[{ callback_data: 'again:1' }]] },
    });
    expect(fake.file(photo!.file_id)).toEqual(WEBP);
    const body = fake.log.of('sendPhoto')[0]!.body;
    expect(body).toMatchObject({
      chat_id: ALICE.id,
      caption: 'a cat',
      photo: { filename: 'a.webp', bytes: WEBP },
    });
    expect(body.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Again', callback_data: 'again:1' }]] });
    expect(Object.keys(body).sort()).toEqual(['caption', 'chat_id', 'photo', 'reply_markup']);
    expect(fake.messages(ALICE.id)).toHaveLength(1);

    const file = await bot.api.getFile(photo!.file_id);
    const download = await fetch(`${fake.url}/file/bot${TOKEN}/${file.file_path}`);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(WEBP);
  });

  it('sends photos by file_id and by HTTP URL, and refuses bytes that are no image', async () => {
    const png = testPng(512, 768);
    const images = new Hono().get('/cat.png', (c) =>
      c.body(new Uint8Array(png), 200, { 'content-type': 'image/png' }),
    );
    const imageServer = await listen(images);
    try {
      const byUrl = await bot.api.sendPhoto(ALICE.id, `${imageServer.url}/cat.png`);
      expect(byUrl.photo?.at(-1)).toMatchObject({ width: 512, height: 768 });
      const byId = await bot.api.sendPhoto(ALICE.id, byUrl.photo!.at(-1)!.file_id);
      expect(byId.photo?.at(-1)?.file_unique_id).toBe(byUrl.photo?.at(-1)?.file_unique_id);
      const missing = await grammyError(() => bot.api.sendPhoto(ALICE.id, `${imageServer.url}/nope.png`));
      expect(missing.description).toBe('Bad Request: failed to get HTTP URL content');
    } finally {
      await imageServer.close();
    }
    const garbage = await grammyError(() =>
      bot.api.sendPhoto(ALICE.id, new InputFile(Buffer.from('not an image'))),
    );
    expect(garbage.description).toBe('Bad Request: IMAGE_PROCESS_FAILED');
  });

  it('sends documents and media groups', async () => {
    const doc = await bot.api.sendDocument(ALICE.id, new InputFile(Buffer.from('{"seed":1}'), 'meta.json'));
    expect(doc.document).toMatchObject({
      file_name: 'meta.json',
      mime_type: 'application/json',
      file_size: 10,
    });
    const album = await bot.api.sendMediaGroup(ALICE.id, [
      { type: 'photo', media: new InputFile(testPng(64, 64), 'one.png'), caption: 'first' },
      { type: 'photo', media: new InputFile(WEBP, 'two.webp') },
    ]);
    expect(album.map((message) => message.message_id)).toEqual([2, 3]);
    const groups = fake.messages(ALICE.id).map((message) => message.media_group_id);
    expect(groups[1]).toBeDefined();
    expect(groups).toEqual([undefined, groups[1], groups[1]]);
    expect(album[0]!.caption).toBe('first');
    const media = fake.log.of('sendMediaGroup')[0]!.body.media as { media: { filename: string } }[];
    expect(media.map((item) => item.media.filename)).toEqual(['one.png', 'two.webp']);
    const tooFew = await grammyError(() =>
      bot.api.sendMediaGroup(ALICE.id, [{ type: 'photo', media: new InputFile(WEBP) }]),
    );
    expect(tooFew.error_code).toBe(400);
  });

  it('answers chat actions, commands, chats and admins', async () => {
    expect(await bot.api.sendChatAction(ALICE.id, 'upload_photo')).toBe(true);
    await bot.api.setMyCommands([{ command: 'draw', description: 'Draw a picture' }]);
    expect(fake.commands()).toEqual([{ command: 'draw', description: 'Draw a picture' }]);
    expect(await bot.api.getMyCommands()).toEqual(fake.commands());
    await bot.api.deleteMyCommands();
    expect(fake.commands()).toEqual([]);
    const invalid = await grammyError(() => bot.api.setMyCommands([{ command: 'Draw', description: 'x' }]));
    expect(invalid.description).toBe('Bad Request: BOT_COMMAND_INVALID');

    fake.addChat(GROUP);
    fake.setAdmins(GROUP.id, [{ id: 1, first_name: 'Owner' }, ALICE]);
    expect(await bot.api.getChat(GROUP.id)).toMatchObject({
      id: GROUP.id,
      type: 'supergroup',
      title: 'Artists',
    });
    const admins = await bot.api.getChatAdministrators(GROUP.id);
    expect(admins.map((member) => [member.user.id, member.status])).toEqual([
      [1, 'creator'],
      [ALICE.id, 'administrator'],
    ]);
    expect((await bot.api.getChatMember(GROUP.id, 5)).status).toBe('member');
  });
});

describe('editing and deleting', () => {
  it('edits text, removes the keyboard when an edit omits it, and reports unmodified edits', async () => {
    const keyboard = new InlineKeyboard().text('Cancel', 'cancel:1');
    const sent = await bot.api.sendMessage(ALICE.id, 'queued', { reply_markup: keyboard });
    const edited = await bot.api.editMessageText(ALICE.id, sent.message_id, 'position 3', {
      reply_markup: keyboard,
    });
    expect(edited).toMatchObject({ text: 'position 3', reply_markup: keyboard });
    expect(typeof edited === 'object' && edited.edit_date).toBeTypeOf('number');

    const same = await grammyError(() =>
      bot.api.editMessageText(ALICE.id, sent.message_id, 'position 3', { reply_markup: keyboard }),
    );
    expect(same.error_code).toBe(400);
    expect(same.description).toMatch(/^Bad Request: message is not modified: /);

    await bot.api.editMessageText(ALICE.id, sent.message_id, 'position 3');
    expect(fake.messages(ALICE.id)[0]).not.toHaveProperty('reply_markup');
    await bot.api.editMessageReplyMarkup(ALICE.id, sent.message_id, { reply_markup: keyboard });
    expect(fake.messages(ALICE.id)[0]?.reply_markup).toEqual(keyboard);

    const gone = await grammyError(() => bot.api.editMessageText(ALICE.id, 99, 'x'));
    expect(gone.description).toBe('Bad Request: message to edit not found');
    const photo = await bot.api.sendPhoto(ALICE.id, new InputFile(WEBP));
    const noText = await grammyError(() => bot.api.editMessageText(ALICE.id, photo.message_id, 'x'));
    expect(noText.description).toBe('Bad Request: there is no text in the message to edit');
  });

  it('replaces a photo with editMessageMedia and an uploaded file, and edits captions', async () => {
    const sent = await bot.api.sendPhoto(ALICE.id, new InputFile(WEBP, 'preview.webp'), {
      caption: 'working',
    });
    const final = testPng(640, 480);
    await bot.api.editMessageMedia(ALICE.id, sent.message_id, {
      type: 'photo',
      media: new InputFile(final, 'final.png'),
      caption: 'done',
    });
    const [message] = fake.messages(ALICE.id);
    expect(message).toMatchObject({ caption: 'done', photo: [{ width: 640, height: 480 }] });
    expect(fake.file(message!.photo!.at(-1)!.file_id)).toEqual(final);
    const body = fake.log.of('editMessageMedia')[0]!.body;
    expect(body.media).toMatchObject({
      type: 'photo',
      caption: 'done',
      media: { filename: 'final.png', bytes: final },
    });

    await bot.api.editMessageCaption(ALICE.id, sent.message_id, { caption: 'done in 3 s' });
    expect(fake.messages(ALICE.id)[0]?.caption).toBe('done in 3 s');
  });

  it('deletes messages from the chat state', async () => {
    const first = await bot.api.sendMessage(ALICE.id, 'one');
    await bot.api.sendMessage(ALICE.id, 'two');
    expect(await bot.api.deleteMessage(ALICE.id, first.message_id)).toBe(true);
    expect(fake.messages(ALICE.id).map((message) => message.text)).toEqual(['two']);
    const again = await grammyError(() => bot.api.deleteMessage(ALICE.id, first.message_id));
    expect(again.description).toBe('Bad Request: message to delete not found');
    expect((await bot.api.sendMessage(ALICE.id, 'three')).message_id).toBe(3);
  });
});

describe('updates', () => {
  it('long-polls: bot.start() gets a /draw@bot command and ctx.reply lands in the chat', async () => {
    const replied = new Promise<string>((resolve) => {
      bot.command('draw', async (ctx) => {
        await ctx.reply(`drawing ${ctx.match}`);
        resolve(ctx.match);
      });
    });
    const running = bot.start();
    const update = fake.sendUserMessage({ chat: GROUP, from: ALICE, text: '/draw@horde_bot a cat' });
    expect(update.message?.entities).toEqual([{ type: 'bot_command', offset: 0, length: 15 }]);
    expect(await replied).toBe('a cat');
    await bot.stop();
    await running;
    expect(
      fake.messages(GROUP.id).map((message) => [message.message_id, message.from?.id, message.text]),
    ).toEqual([
      [1, ALICE.id, '/draw@horde_bot a cat'],
      [2, 7_000_000_001, 'drawing a cat'],
    ]);
    expect(fake.pendingUpdates()).toEqual([]);
    expect(fake.log.of('deleteWebhook')).toHaveLength(1);
  });

  it('long-polls like the real getUpdates: waits, confirms by offset, one poller at a time', async () => {
    const started = Date.now();
    const waiting = bot.api.getUpdates({ timeout: 5 });
    setTimeout(() => fake.sendUserMessage({ from: ALICE, text: 'hi' }), 50);
    const [update] = await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(update?.message?.text).toBe('hi');
    expect(await bot.api.getUpdates({ offset: update!.update_id })).toHaveLength(1);
    expect(await bot.api.getUpdates({ offset: update!.update_id + 1 })).toEqual([]);
    expect(fake.pendingUpdates()).toEqual([]);

    const first = grammyError(() => bot.api.getUpdates({ timeout: 5 }));
    await fake.log.next('getUpdates', { after: fake.log.calls.length });
    const second = bot.api.getUpdates({ timeout: 5 });
    expect((await first).error_code).toBe(409);
    fake.sendUserMessage({ from: ALICE, text: 'for the second poller' });
    expect((await second)[0]?.message?.text).toBe('for the second poller');
  });

  it('delivers a pressed button as a callback_query, answerable once', async () => {
    const sent = await bot.api.sendMessage(ALICE.id, 'done', {
      reply_markup: new InlineKeyboard().text('Upscale', 'upscale:7'),
    });
    const answered = new Promise<string | undefined>((resolve) => {
      bot.callbackQuery(/^upscale:/, async (ctx) => {
        await ctx.answerCallbackQuery({ text: 'Upscaling' });
        resolve(ctx.callbackQuery.message?.text);
      });
    });
    const running = bot.start();
    const update = fake.pressButton({ message: sent, from: ALICE, text: 'Upscale' });
    expect(update.callback_query).toMatchObject({ data: 'upscale:7', from: { id: ALICE.id } });
    expect(await answered).toBe('done');
    await bot.stop();
    await running;
    expect(fake.log.of('answerCallbackQuery')[0]!.body).toEqual({
      callback_query_id: update.callback_query!.id,
      text: 'Upscaling',
    });
    const twice = await grammyError(() => bot.api.answerCallbackQuery(update.callback_query!.id));
    expect(twice.description).toMatch(/query is too old/);
    expect(() => fake.pressButton({ message: sent, from: ALICE, data: 'nope' })).toThrow(
      /no callback button/,
    );
  });

  it('records inline answers and edits the chosen inline message', async () => {
    await bot.init();
    const query = fake.inlineQuery({ from: ALICE, query: 'a cat' });
    bot.on('inline_query', (ctx) =>
      ctx.answerInlineQuery(
        [
          {
            type: 'article',
            id: 'job-1',
            title: 'Draw "a cat"',
            input_message_content: { message_text: 'Drawing a cat…' },
            reply_markup: new InlineKeyboard().text('Cancel', 'cancel:1'),
          },
        ],
        { cache_time: 0 },
      ),
    );
    await bot.handleUpdate(query);
    expect(fake.log.of('answerInlineQuery')[0]!.body).toMatchObject({
      inline_query_id: query.inline_query!.id,
      cache_time: 0,
      results: [{ id: 'job-1', type: 'article' }],
    });
    const chosen = fake.chooseInlineResult({ from: ALICE, result_id: 'job-1', query: 'a cat' });
    const inlineId = chosen.chosen_inline_result!.inline_message_id!;
    expect(fake.inlineMessage(inlineId)).toMatchObject({ text: 'Drawing a cat…' });
    const press = fake.pressButton({ inline_message_id: inlineId, from: ALICE, data: 'cancel:1' });
    expect(press.callback_query).toMatchObject({ inline_message_id: inlineId, data: 'cancel:1' });
    expect(await bot.api.editMessageTextInline(inlineId, 'Done')).toBe(true);
    expect(fake.inlineMessage(inlineId)).toMatchObject({ text: 'Done' });
    // The edit sent no reply_markup, so the keyboard is gone, as on Telegram.
    expect(() => fake.pressButton({ inline_message_id: inlineId, from: ALICE, data: 'cancel:1' })).toThrow(
      /no callback button/,
    );
  });

  it('passes flood control to grammY as a 429 GrammyError with retry_after', async () => {
    fake.floodNext('sendMessage', 7);
    const error = await grammyError(() => bot.api.sendMessage(ALICE.id, 'hi'));
    expect(error).toMatchObject({
      error_code: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
      method: 'sendMessage',
    });
    expect((await bot.api.sendMessage(ALICE.id, 'hi')).message_id).toBe(1);
    expect(fake.log.of('sendMessage')).toHaveLength(2);
    fake.failNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    expect((await grammyError(() => bot.api.sendMessage(ALICE.id, 'hi'))).error_code).toBe(403);
  });

  it('answers unknown methods with 404', async () => {
    const response = await fetch(`${fake.url}/bot${TOKEN}/noSuchMethod`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      ok: false,
      error_code: 404,
      description: 'Not Found: method not found',
    });
  });

  it('feeds a grammY webhook, checking the secret token', async () => {
    bot.on('message:text', (ctx) => ctx.reply(`echo ${ctx.message.text}`));
    const app = new Hono().post('/hook', webhookCallback(bot, 'hono', { secretToken: 's3cret' }));
    const hook = await listen(app);
    try {
      const update = fake.sendUserMessage({ from: ALICE, text: 'hello' });
      expect((await fake.postUpdateTo(`${hook.url}/hook`, update, 'wrong')).status).toBe(401);
      expect(fake.messages(ALICE.id)).toHaveLength(1);
      expect((await fake.postUpdateTo(`${hook.url}/hook`, update, 's3cret')).status).toBe(200);
      expect(fake.messages(ALICE.id).at(-1)?.text).toBe('echo hello');

      // With setWebhook, the fake delivers injected updates itself, and getUpdates conflicts.
      await bot.api.setWebhook(`${hook.url}/hook`, { secret_token: 's3cret' });
      fake.sendUserMessage({ from: ALICE, text: 'pushed' });
      await fake.webhookDeliveries();
      expect(fake.messages(ALICE.id).at(-1)?.text).toBe('echo pushed');
      expect((await bot.api.getWebhookInfo()).url).toBe(`${hook.url}/hook`);
      expect((await grammyError(() => bot.api.getUpdates())).error_code).toBe(409);
    } finally {
      await hook.close();
    }
  });
});
