/**
 * Who and where an update comes from, in the framework's words. A chat is a place (its settings are kept
 * per chat id); a person is an admin of their own private chat with the bot, and of a group when Telegram
 * says they are its creator or an administrator (asked with getChatMember, remembered a few minutes).
 * Inline mode has no chat the bot can see: every inline request shares the place `inline`, where nobody
 * is an admin (an operator sets its settings through `chat.settings`).
 */
import type { Api } from 'grammy';
import type { Chat, User } from 'grammy/types';
import type { Where, Who } from '../framework/types.js';
import type { TelegramMemory } from './memory.js';

/** The place of inline-mode requests (the message may end up in any chat). */
export const INLINE_PLACE_ID = 'inline';

export function displayName(user: User): string {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ').trim();
  return name || (user.username ? `@${user.username}` : `user ${user.id}`);
}

export function whereOfChat(chat: Pick<Chat, 'id' | 'type'>): Where {
  return {
    platform: 'telegram',
    placeId: String(chat.id),
    channelId: String(chat.id),
    // Telegram marks no chat as adult: an admin allows it per chat with /settings.
    platformAdult: false,
    isPrivate: chat.type === 'private',
  };
}

export function inlineWhere(): Where {
  return {
    platform: 'telegram',
    placeId: INLINE_PLACE_ID,
    channelId: INLINE_PLACE_ID,
    platformAdult: false,
    isPrivate: false,
  };
}

export interface AdminLookup {
  api: Api;
  memory: TelegramMemory;
  /** How long an answer of getChatMember is trusted. */
  cacheMs: number;
  now: () => number;
}

/** `user` in `chat` (none: inline mode, where nobody is an admin). */
export async function whoOf(lookup: AdminLookup, user: User, chat?: Pick<Chat, 'id' | 'type'>): Promise<Who> {
  return {
    platform: 'telegram',
    id: String(user.id),
    displayName: displayName(user),
    isAdmin: chat ? await isAdmin(lookup, chat, user.id) : false,
  };
}

async function isAdmin(
  lookup: AdminLookup,
  chat: Pick<Chat, 'id' | 'type'>,
  userId: number,
): Promise<boolean> {
  if (chat.type === 'private') return true;
  const now = lookup.now();
  const cached = lookup.memory.cachedAdmin(chat.id, userId, now);
  if (cached !== undefined) return cached;
  try {
    const member = await lookup.api.getChatMember(chat.id, userId);
    const admin = member.status === 'creator' || member.status === 'administrator';
    lookup.memory.cacheAdmin(chat.id, userId, admin, now + lookup.cacheMs);
    return admin;
  } catch {
    // Not knowing is not being an admin; ask again next time.
    return false;
  }
}
