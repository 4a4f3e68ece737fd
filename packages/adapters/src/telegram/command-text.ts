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

/** An option name no command can have (names cannot contain spaces): collects the unnamed words. */
const WORDS = ' words';

export type CommandOptions = { ok: true; options: Record<string, unknown> } | { ok: false; refusal: string };

export function commandOptions(
  specs: OptionSpecs,
  text: string,
  message: Message | undefined,
  memory: TelegramMemory,
): CommandOptions {
  const names = Object.keys(specs);
  const userOptions = names.filter((name) => specs[name]?.type === 'user');
  const freeText = names.some((name) => specs[name]?.type === 'string');
  if (freeText) {
    const options = parseTextOptions(specs, text);
    return resolveUsers(options, userOptions, message, memory);
  }
  const options = parseTextOptions({ [WORDS]: { type: 'string', description: 'words' }, ...specs }, text);
  const words = String(options[WORDS] ?? '')
    .split(/\s+/)
    .filter(Boolean);
  delete options[WORDS];
  const mentions = mentionedUsers(message);
  const replied = message?.reply_to_message?.from;
  const firstUnset = (candidates: string[]) => candidates.find((name) => options[name] === undefined);
  // A reply names the person when the text does not.
  const replyTarget = firstUnset(userOptions);
  const namesSomeone = words.some((word) => word.startsWith('@') || mentions.has(word));
  if (replyTarget && replied && !replied.is_bot && !namesSomeone) options[replyTarget] = String(replied.id);
  for (const word of words) {
    const isPerson = word.startsWith('@') || mentions.has(word);
    const target = (isPerson ? firstUnset(userOptions) : undefined) ?? firstUnset(names);
    if (target) options[target] = word;
  }
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
