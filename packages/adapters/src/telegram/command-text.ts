/**
 * A Telegram command's text as framework option values: `/draw a lighthouse --seed 77` through
 * `parseTextOptions`. Commands without a free-text option take plain words in order, so `/transfer @bob 20`
 * works as well as `/transfer --to @bob --amount 20`.
 *
 * Naming a person (`user` options), in this order: reply to one of their messages (`/transfer 20` as a
 * reply to Bob), `@username` of someone the bot has seen (the Bot API cannot look users up by name), a
 * mention of a user without a username (Telegram attaches the user to it), or the numeric user id.
 */
import type { Message, User } from 'grammy/types';
import type { OptionSpecs } from '../framework/define.js';
import { parseTextOptions } from '../framework/text-options.js';
import type { TelegramMemory } from './memory.js';

export type CommandOptions = { ok: true; options: Record<string, unknown> } | { ok: false; refusal: string };

export function commandOptions(
  specs: OptionSpecs,
  text: string,
  message: Message | undefined,
  memory: TelegramMemory,
): CommandOptions {
  const names = Object.keys(specs);
  const userOptions = names.filter((name) => specs[name]?.type === 'user');
  const mentions = mentionedUsers(message);
  const isPerson = (word: string) => word.startsWith('@') || mentions.has(word);
  // A reply names the person when the text does not.
  const preset: Record<string, unknown> = {};
  const replied = message?.reply_to_message?.from;
  const namesSomeone = text.split(/\s+/).some(isPerson);
  if (userOptions[0] && replied && !replied.is_bot && !namesSomeone)
    preset[userOptions[0]] = String(replied.id);
  const options = parseTextOptions(specs, text, { preset, isPerson });
  return resolveUsers(options, userOptions, message, memory);
}

/** Turns every `user` option's value into a Telegram user id, or says who is unknown. */
function resolveUsers(
  options: Record<string, unknown>,
  userOptions: string[],
  message: Message | undefined,
  memory: TelegramMemory,
): CommandOptions {
  const mentions = mentionedUsers(message);
  for (const name of userOptions) {
    const value = options[name];
    if (typeof value !== 'string' || /^\d+$/.test(value)) continue;
    const id = mentions.get(value)?.id ?? (value.startsWith('@') ? memory.userIdOf(value) : undefined);
    if (id === undefined) {
      return {
        ok: false,
        refusal: value.startsWith('@')
          ? `I don't know ${value} yet: they need to have used me first. You can also reply to one of their messages with the command.`
          : `I can't tell who “${value}” is. Reply to one of their messages with the command, or name them as @username.`,
      };
    }
    options[name] = String(id);
  }
  return { ok: true, options };
}

/** Users named in the message: `text_mention` entities (people without a username) by their text. */
function mentionedUsers(message: Message | undefined): Map<string, User> {
  const found = new Map<string, User>();
  const text = message?.text ?? message?.caption ?? '';
  for (const entity of message?.entities ?? message?.caption_entities ?? []) {
    if (entity.type === 'text_mention') {
      found.set(text.slice(entity.offset, entity.offset + entity.length), entity.user);
    }
  }
  return found;
}
