/**
 * Inline mode: `@bot a red fox` in any chat. The query is answered at once with a "Draw this" result (its
 * id carries a short token for the query) followed by the person's recent pictures (cached photos, by
 * file_id). The result's message says "🎨 Drawing: …" and has a placeholder button: Telegram only gives
 * the bot an `inline_message_id` for results with an inline keyboard. When the person picks it
 * (`chosen_inline_result`, which needs inline feedback switched on with BotFather's /setinlinefeedback),
 * the command runs with that inline message as its reply: progress edits, then the picture.
 */
import { randomBytes } from 'node:crypto';
import { InlineQueryResultBuilder } from 'grammy';
import type { InlineQueryResult } from 'grammy/types';
import type { AnyCommand } from '../framework/define.js';
import { parseTextOptions } from '../framework/text-options.js';
import { commandOptions } from './command-text.js';
import { WAIT_DATA } from './handlers.js';
import { inlineWhere, whoOf } from './identity.js';
import { inlineIo } from './io.js';
import type { Kit } from './kit.js';
import { clipText, MAX_CAPTION, MAX_TEXT } from './render.js';

const DRAW_PREFIX = 'draw:';
/** Telegram shows at most 50 results. */
const MAX_RECENT = 20;

export function registerInline(kit: Kit, command: AnyCommand): void {
  kit.bot.on('inline_query', async (ctx) => {
    const { query, from } = ctx.inlineQuery;
    const text = query.trim();
    const results: InlineQueryResult[] = [];
    if (text) {
      const prompt = promptOf(command, text);
      const token = randomBytes(9).toString('base64url');
      kit.memory.inlineDraws.set(token, text);
      results.push(
        InlineQueryResultBuilder.article(`${DRAW_PREFIX}${token}`, clipText(`Draw this: ${prompt}`, 256), {
          description: 'Drawn here by the horde, in a minute or so',
          reply_markup: { inline_keyboard: [[{ text: '⏳ Drawing…', callback_data: WAIT_DATA }]] },
        }).text(clipText(`🎨 Drawing: ${prompt}…`, MAX_TEXT)),
      );
    }
    kit.memory
      .recentImages(from.id)
      .slice(0, MAX_RECENT)
      .forEach((image, index) => {
        results.push(
          InlineQueryResultBuilder.photoCached(`recent:${index}`, image.fileId, {
            caption: clipText(image.caption, MAX_CAPTION),
          }),
        );
      });
    await ctx.answerInlineQuery(results, { cache_time: 0, is_personal: true }).catch(kit.report);
  });

  kit.bot.on('chosen_inline_result', async (ctx, next) => {
    const chosen = ctx.chosenInlineResult;
    if (!chosen.result_id.startsWith(DRAW_PREFIX)) return next();
    const inlineMessageId = chosen.inline_message_id;
    if (!inlineMessageId) return; // only results with a keyboard get one; ours have it
    const text = kit.memory.inlineDraws.get(chosen.result_id.slice(DRAW_PREFIX.length)) ?? chosen.query;
    const { from } = chosen;
    kit.track(async () => {
      const io = inlineIo(kit.messenger, { userId: from.id, inlineMessageId }, kit.intervals.inline);
      const parsed = commandOptions(command.options ?? {}, text, undefined, kit.memory);
      if (!parsed.ok) {
        await io.reply({ text: parsed.refusal });
        return;
      }
      const who = await whoOf(kit.lookup, from);
      await kit.app.dispatchCommand(
        { command: command.name, options: parsed.options, who, where: inlineWhere() },
        io,
      );
    });
  });
}

/** The prompt part of an inline query (without `--options`), for the result's title. */
function promptOf(command: AnyCommand, text: string): string {
  if (!command.promptOption) return text;
  const value = parseTextOptions(command.options ?? {}, text)[command.promptOption];
  return typeof value === 'string' && value.trim() ? value.trim() : text;
}
