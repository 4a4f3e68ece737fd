/**
 * Commands and buttons, in chats. Every `chat.commands` entry becomes `bot.command(name)` (Telegram's
 * names take `_` where ours may have `-`; `/draw@bot` in groups is handled by grammY). Telegram has no
 * deferred replies, so a chat action ("sending a photo…", "typing…") is the acknowledgement, sent at once;
 * the invocation then runs detached. A button press is answered (answerCallbackQuery) at once too.
 */
import type { AnyCommand } from '../framework/define.js';
import { commandOptions } from './command-text.js';
import { inlineWhere, whereOfChat, whoOf } from './identity.js';
import { chatIo, inlineIo } from './io.js';
import { intervalFor, type Kit } from './kit.js';
import { type InlineRef, refOfMessage, sentOf } from './messages.js';

/** The `callback_data` of the placeholder button an inline result needs before it has real ones. */
export const WAIT_DATA = 'hordekit:wait';

export function telegramCommandName(name: string): string {
  return name.replace(/-/g, '_');
}

export function registerCommands(kit: Kit): void {
  const { bot, memory } = kit;
  // Whoever writes can be named by `@username` later (/transfer).
  bot.use((ctx, next) => {
    memory.rememberUser(ctx.from);
    memory.rememberUser(ctx.msg?.reply_to_message?.from);
    return next();
  });
  for (const command of kit.app.commands) registerCommand(kit, command);
}

function registerCommand(kit: Kit, command: AnyCommand): void {
  kit.bot.command(telegramCommandName(command.name), (ctx) => {
    const { chat, from, msg: message } = ctx;
    if (!from) return; // a channel post: nobody to answer to
    const threadId = message.is_topic_message ? message.message_thread_id : undefined;
    kit.bot.api
      .sendChatAction(chat.id, command.limited ? 'upload_photo' : 'typing', {
        ...(threadId === undefined ? {} : { message_thread_id: threadId }),
      })
      .catch(kit.report);
    const text = ctx.match;
    kit.track(async () => {
      const io = chatIo(
        kit.messenger,
        { chat, userId: from.id, messageId: message.message_id, threadId },
        intervalFor(kit, chat),
      );
      const parsed = commandOptions(command.options ?? {}, text, message, kit.memory);
      if (!parsed.ok) {
        await io.reply({ text: parsed.refusal }, { ephemeral: true });
        return;
      }
      const who = await whoOf(kit.lookup, from, chat);
      const where = whereOfChat(chat);
      await kit.app.dispatchCommand({ command: command.name, options: parsed.options, who, where }, io);
    });
  });
}

export function registerButtons(kit: Kit): void {
  kit.bot.on('callback_query:data', async (ctx, next) => {
    const query = ctx.callbackQuery;
    if (query.data === WAIT_DATA) {
      await ctx
        .answerCallbackQuery({ text: 'Still drawing: the picture will appear here.' })
        .catch(kit.report);
      return;
    }
    const route = kit.codec.decode(query.data);
    if (!route) return next();
    kit.bot.api.answerCallbackQuery(query.id).catch(kit.report);
    const { from, message } = query;
    const inlineMessageId = query.inline_message_id;
    kit.track(async () => {
      if (message) {
        const { chat } = message;
        const ref = refOfMessage(message, kit.memory);
        const io = chatIo(
          kit.messenger,
          { chat, userId: from.id, messageId: message.message_id, threadId: ref.threadId },
          intervalFor(kit, chat),
        );
        const who = await whoOf(kit.lookup, from, chat);
        await kit.app.dispatchButton({ ...route, who, where: whereOfChat(chat), message: sentOf(ref) }, io);
      } else if (inlineMessageId) {
        const ref: InlineRef = { kind: 'inline', inlineMessageId, shape: 'text' };
        const io = inlineIo(kit.messenger, { userId: from.id }, kit.intervals.inline);
        const who = await whoOf(kit.lookup, from);
        await kit.app.dispatchButton({ ...route, who, where: inlineWhere(), message: sentOf(ref) }, io);
      }
    });
  });
}

/** `/start` (what Telegram sends when someone opens the bot) and `/help`: what the bot can do. */
export function registerHelp(kit: Kit, inline: boolean): void {
  const taken = new Set(kit.app.commands.map((command) => telegramCommandName(command.name)));
  const names = ['start', 'help'].filter((name) => !taken.has(name));
  if (names.length === 0) return;
  kit.bot.command(names, async (ctx) => {
    const lines = kit.app.commands.map(
      (command) => `/${telegramCommandName(command.name)} — ${command.description}`,
    );
    const username = ctx.me.username;
    const text = [
      'I draw pictures with the horde: a crowd of volunteers’ GPUs.',
      ...lines,
      'Options go after the text, as --name value: /draw a red fox --seed 7',
      ...(inline ? [`In any chat, type @${username} and a prompt to draw it there.`] : []),
    ].join('\n');
    await ctx.reply(text).catch(kit.report);
  });
}
