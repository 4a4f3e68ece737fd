/**
 * Builds the updates a Telegram user causes (a message, a button press, an inline query, a chosen inline
 * result) shaped as the real server sends them, records their effect on the fake's state, and queues them
 * for getUpdates (or the webhook). Misuse a real user could not commit (pressing a button that is not
 * there, choosing a result the bot never offered) throws.
 */
import type { InlineQuery, InlineQueryResult, Message, MessageEntity, Update, User } from 'grammy/types';
import { asReply, captionFields, documentOf, formattedText, photoSizes, storeUpload } from './content.js';
import { isRecord } from './params.js';
import type { ChatInput, InlineMessage, TelegramWorld } from './state.js';

export interface UserInput {
  id: number;
  first_name: string;
  username?: string;
  last_name?: string;
  language_code?: string;
}

export interface UserMessageInput {
  from: UserInput;
  /** Defaults to the private chat with `from`. The chat is created if the fake does not know it yet. */
  chat?: ChatInput;
  /** The text, or the caption of `photo`. Commands and @mentions get their entities, as on Telegram. */
  text?: string;
  /** Image bytes (PNG, JPEG, GIF or WebP) the user sends as a photo. */
  photo?: Uint8Array;
  /** The message (in this chat) the user replies to. */
  replyTo?: number;
}

export interface ButtonPressInput {
  from: UserInput;
  /** A chat message from the fake's state (only its chat id and message id are used). */
  message?: { chat: { id: number }; message_id: number };
  inline_message_id?: string;
  /** The button's `callback_data`; or give the button's `text`. */
  data?: string;
  text?: string;
}

export interface InlineQueryInput {
  from: UserInput;
  query: string;
  offset?: string;
  chat_type?: InlineQuery['chat_type'];
}

export interface ChosenInlineResultInput {
  from: UserInput;
  result_id: string;
  query: string;
  /** Defaults to a new id when the result has an inline keyboard (Telegram sends none otherwise). */
  inline_message_id?: string;
}

export class UpdateFactory {
  #count = 0;

  constructor(private readonly world: TelegramWorld) {}

  userMessage(input: UserMessageInput): Update {
    const from = toUser(input.from);
    const chat = this.world.addChat(
      input.chat ?? { id: from.id, type: 'private', first_name: from.first_name },
    );
    const content: Partial<Message> = chat.type === 'channel' ? { sender_chat: chat } : { from };
    if (input.replyTo !== undefined) {
      const target = this.world.message(chat.id, input.replyTo);
      if (!target) throw new Error(`message ${input.replyTo} is not in chat ${chat.id}`);
      content.reply_to_message = asReply(target);
    }
    const text = input.text ?? '';
    const entities = textEntities(text);
    if (input.photo) {
      const file = storeUpload(this.world, Buffer.from(input.photo), 'photo.jpg', '', 'photo');
      Object.assign(content, { photo: photoSizes(file) }, text ? { caption: text } : {});
      if (text && entities.length > 0) content.caption_entities = entities;
    } else {
      content.text = text;
      if (entities.length > 0) content.entities = entities;
    }
    const message = structuredClone(this.world.postMessage(chat.id, content));
    return this.#push(chat.type === 'channel' ? { channel_post: message } : { message });
  }

  buttonPress(input: ButtonPressInput): Update {
    const current = input.message
      ? this.world.message(input.message.chat.id, input.message.message_id)
      : this.world.inlineMessages.get(input.inline_message_id ?? '');
    if (!current) throw new Error('the message with that button is not in the chat (deleted, or never sent)');
    const buttons = current.reply_markup?.inline_keyboard.flat() ?? [];
    const button = buttons.find((candidate) =>
      input.data === undefined
        ? candidate.text === input.text
        : 'callback_data' in candidate && candidate.callback_data === input.data,
    );
    if (!button || !('callback_data' in button)) {
      throw new Error(
        `no callback button ${JSON.stringify(input.data ?? input.text)} in the message's inline keyboard`,
      );
    }
    const id = this.#queryId();
    this.world.openCallbackQueries.add(id);
    const chatId = input.message?.chat.id;
    const callback_query = {
      id,
      from: toUser(input.from),
      chat_instance: chatId === undefined ? '-1' : String(-Math.abs(chatId) * 31 - 7),
      data: button.callback_data,
      ...(input.message
        ? { message: structuredClone(current as Message) }
        : { inline_message_id: input.inline_message_id }),
    };
    return this.#push({ callback_query });
  }

  inlineQuery(input: InlineQueryInput): Update {
    const id = this.#queryId();
    this.world.openInlineQueries.add(id);
    const inline_query: InlineQuery = {
      id,
      from: toUser(input.from),
      query: input.query,
      offset: input.offset ?? '',
    };
    if (input.chat_type) inline_query.chat_type = input.chat_type;
    return this.#push({ inline_query });
  }

  chosenInlineResult(input: ChosenInlineResultInput): Update {
    const result = this.world.inlineAnswers
      .toReversed()
      .flatMap((answer) => answer.results)
      .find((candidate) => candidate.id === input.result_id);
    if (!result) throw new Error(`the bot never offered an inline result with id ${input.result_id}`);
    const inlineMessageId =
      input.inline_message_id ?? (result.reply_markup ? `fake-inline-${++this.#count}` : undefined);
    if (inlineMessageId !== undefined) {
      this.world.inlineMessages.set(inlineMessageId, this.#inlineMessage(inlineMessageId, result));
    }
    return this.#push({
      chosen_inline_result: {
        result_id: input.result_id,
        from: toUser(input.from),
        query: input.query,
        ...(inlineMessageId === undefined ? {} : { inline_message_id: inlineMessageId }),
      },
    });
  }

  /** What the chosen result shows in the chat: its input_message_content, or its photo or document. */
  #inlineMessage(id: string, result: InlineQueryResult): InlineMessage {
    const fields = result as unknown as Record<string, unknown>;
    const message: InlineMessage = { inline_message_id: id };
    if (result.reply_markup) message.reply_markup = result.reply_markup;
    const content = isRecord(fields.input_message_content) ? fields.input_message_content : undefined;
    if (content && typeof content.message_text === 'string') {
      const text = formattedText({ ...content, text: content.message_text }, 'text') ?? { text: '' };
      return { ...message, text: text.text, ...(text.entities ? { entities: text.entities } : {}) };
    }
    const fileId = fields.photo_file_id ?? fields.document_file_id;
    const stored = typeof fileId === 'string' ? this.world.file(fileId) : undefined;
    if (stored && fields.photo_file_id) message.photo = photoSizes(stored);
    else if (stored) message.document = documentOf(stored);
    const url = fields.photo_url ?? fields.document_url;
    if (typeof url === 'string') message.media_url = url;
    if (!stored && typeof url !== 'string') return { ...message, text: String(fields.title ?? '') };
    return { ...message, ...captionFields(fields) };
  }

  #queryId(): string {
    return String(4_000_000_000_000 + ++this.#count);
  }

  #push(body: Record<string, unknown>): Update {
    const update = { update_id: this.world.updates.nextUpdateId(), ...body } as Update;
    this.world.updates.push(update);
    return structuredClone(update);
  }
}

function toUser(input: UserInput): User {
  return { ...input, is_bot: false };
}

/** `bot_command` and `mention` entities, found as Telegram's clients do. */
function textEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  for (const match of text.matchAll(
    /(^|\s)(\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?|@[A-Za-z0-9_]{5,32})/g,
  )) {
    const token = match[2] ?? '';
    const offset = (match.index ?? 0) + (match[1]?.length ?? 0);
    entities.push({ type: token.startsWith('/') ? 'bot_command' : 'mention', offset, length: token.length });
  }
  return entities;
}
