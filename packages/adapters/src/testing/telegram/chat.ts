/**
 * The fake Bot API's chat and query methods: getChat, getChatMember, getChatAdministrators (admins are
 * set per chat by the test), answerCallbackQuery and answerInlineQuery (each query can be answered once).
 */
import type { ChatFullInfo, ChatMember, InlineQueryResult, User } from 'grammy/types';
import { badRequest, DESCRIPTIONS } from './errors.js';
import { requireChatId, requireInt, requireString } from './params.js';
import type { MethodCall, MethodHandler } from './state.js';

/** The first admin of a chat is its creator, the rest are administrators with the usual rights. */
export function chatMember(user: User, adminIndex: number): ChatMember {
  if (adminIndex === 0) return { status: 'creator', user, is_anonymous: false };
  if (adminIndex === -1) return { status: 'member', user };
  return {
    status: 'administrator',
    user,
    can_be_edited: false,
    is_anonymous: false,
    can_manage_chat: true,
    can_delete_messages: true,
    can_manage_video_chats: true,
    can_restrict_members: true,
    can_promote_members: false,
    can_change_info: true,
    can_invite_users: true,
    can_post_stories: false,
    can_edit_stories: false,
    can_delete_stories: false,
    can_pin_messages: true,
    can_send_welcome_messages: false,
  };
}

function getChat({ params, world }: MethodCall): ChatFullInfo {
  const chat = world.chat(requireChatId(params));
  return { ...chat, accent_color_id: 0, max_reaction_count: 11 } as ChatFullInfo;
}

function getChatMember({ params, world }: MethodCall): ChatMember {
  const chatId = requireChatId(params);
  const userId = requireInt(params, 'user_id');
  const admins = world.admins(chatId);
  const index = admins.findIndex((admin) => admin.id === userId);
  const user =
    admins[index] ??
    (userId === world.bot.id ? world.botUser : { id: userId, is_bot: false, first_name: '' });
  return chatMember(user, index);
}

function getChatAdministrators({ params, world }: MethodCall): ChatMember[] {
  const chatId = requireChatId(params);
  if (world.chat(chatId).type === 'private') throw badRequest(DESCRIPTIONS.noAdminsInPrivateChat);
  return world.admins(chatId).map((admin, index) => chatMember(admin, index));
}

function answerCallbackQuery({ params, world }: MethodCall): true {
  const id = requireString(params, 'callback_query_id');
  if (!world.openCallbackQueries.delete(id)) throw badRequest(DESCRIPTIONS.queryTooOld);
  return true;
}

function answerInlineQuery({ params, world }: MethodCall): true {
  const id = requireString(params, 'inline_query_id');
  const results = params.results;
  if (!Array.isArray(results)) throw badRequest("can't parse inline query results JSON object");
  if (results.length > 50) throw badRequest(DESCRIPTIONS.resultsTooMuch);
  const ids = results.map((result: { id?: unknown }) => String(result?.id));
  if (new Set(ids).size !== ids.length) throw badRequest(DESCRIPTIONS.resultIdDuplicate);
  if (!world.openInlineQueries.delete(id)) throw badRequest(DESCRIPTIONS.queryTooOld);
  world.inlineAnswers.push({ inline_query_id: id, results: results as InlineQueryResult[] });
  return true;
}

export const chatMethods: Record<string, MethodHandler> = {
  getChat,
  getChatMember,
  getChatAdministrators,
  answerCallbackQuery,
  answerInlineQuery,
};
