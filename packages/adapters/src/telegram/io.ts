/**
 * The framework's `PlatformIO` for one Telegram invocation: in a chat (a command, or a button on a chat
 * message) or on an inline message (inline mode). Telegram has no ephemeral messages: those go to the
 * person's private chat with the bot when they have started one, otherwise into the chat as a reply.
 */
import { GrammyError } from 'grammy';
import type { Chat } from 'grammy/types';
import type { PlatformIO } from '../framework/types.js';
import { type InlineRef, type Messenger, type Placement, sentOf } from './messages.js';

export interface ChatTarget {
  chat: Pick<Chat, 'id' | 'type'>;
  /** The person who invoked (gets ephemeral messages privately). */
  userId: number;
  /** The message that invoked: the command, or the one whose button was pressed. */
  messageId?: number;
  threadId?: number;
}

export function chatIo(messenger: Messenger, target: ChatTarget, editIntervalMs: number): PlatformIO {
  const { chat, userId } = target;
  const isPrivate = chat.type === 'private';
  const placement: Placement = {
    ...(isPrivate || target.messageId === undefined ? {} : { replyTo: target.messageId }),
    ...(target.threadId === undefined ? {} : { threadId: target.threadId }),
  };
  return {
    editIntervalMs,
    async reply(message, options = {}) {
      if (options.ephemeral && !isPrivate) {
        try {
          return await messenger.send(userId, message, {}, userId);
        } catch (error) {
          // 400 chat not found / 403 can't initiate conversation: they never started the bot.
          if (!(error instanceof GrammyError)) throw error;
        }
      }
      return messenger.send(chat.id, message, placement, userId);
    },
    edit: (sent, message) => messenger.edit(sent, message, userId),
    delete: (sent) => messenger.delete(sent),
  };
}

export interface InlineTarget {
  userId: number;
  /** The inline message this invocation answers in (a chosen "draw this" result), if any. */
  inlineMessageId?: string;
}

/**
 * The first reply of a chosen inline result becomes the inline message itself (progress, then the
 * picture; or the refusal). Further replies, and all replies to buttons pressed on inline messages, go to
 * the person's private chat: the bot cannot post into the chat the inline message is in.
 */
export function inlineIo(messenger: Messenger, target: InlineTarget, editIntervalMs: number): PlatformIO {
  const { userId } = target;
  let unclaimed: InlineRef | undefined = target.inlineMessageId
    ? { kind: 'inline', inlineMessageId: target.inlineMessageId, shape: 'text' }
    : undefined;
  return {
    editIntervalMs,
    async reply(message) {
      if (unclaimed) {
        const own = sentOf(unclaimed);
        unclaimed = undefined;
        return messenger.edit(own, message, userId);
      }
      return messenger.send(userId, message, {}, userId);
    },
    edit: (sent, message) => messenger.edit(sent, message, userId),
    delete: (sent) => messenger.delete(sent),
  };
}
