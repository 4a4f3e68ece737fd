/**
 * The framework's messages sent, edited and deleted with the Bot API.
 *
 * - No pictures: a text message (sendMessage / editMessageText).
 * - One picture: a photo with the text as its caption and the buttons under it (sendPhoto). Edited again,
 *   it changes its caption (editMessageCaption) or its picture (editMessageMedia).
 * - Several: an album (sendMediaGroup, which takes no buttons) and, replying to it, a text message with
 *   the text and the buttons; that text message is the one the framework holds.
 * - A text message cannot become a photo, nor a photo an album: the new message is sent, then the old one
 *   deleted, and the framework holds the new one from then on.
 * - Inline messages (inline mode) take text, caption and media edits, but a photo only by file_id: the
 *   picture is uploaded to a chat first (the requester's private chat, or `uploadChatId`), its file_id
 *   reused, and that helper message deleted again (the file_id stays valid; inline mode offers the picture
 *   again among the user's recent images). They show the first picture of several.
 * "Message is not modified" is not an error here: the message already says what it should.
 */
import { type Api, GrammyError, InputFile, InputMediaBuilder } from 'grammy';
import type { MaybeInaccessibleMessage, Message, ReplyParameters } from 'grammy/types';
import type { ImageAttachment, OutgoingMessage, SentMessage } from '../framework/types.js';
import type { TelegramMemory } from './memory.js';
import { type CallbackCodec, clipText, MAX_CAPTION, MAX_TEXT } from './render.js';

/** Where a new message goes in its chat. */
export interface Placement {
  /** Reply to this message (in groups, so that it is clear what an answer is about). */
  replyTo?: number;
  /** The forum topic. */
  threadId?: number;
}

export interface ChatRef extends Placement {
  kind: 'chat';
  chatId: number;
  messageId: number;
  shape: 'text' | 'photo' | 'album';
  /** For `album`: the photos above the text message that carries the buttons. */
  album?: number[];
}

export interface InlineRef {
  kind: 'inline';
  inlineMessageId: string;
  shape: 'text' | 'photo';
}

/** `SentMessage.ref` of Telegram messages. */
export type TelegramRef = ChatRef | InlineRef;

export function sentOf(ref: TelegramRef): SentMessage {
  const id = ref.kind === 'chat' ? `${ref.chatId}:${ref.messageId}` : `inline:${ref.inlineMessageId}`;
  return { platform: 'telegram', id, ref };
}

export function refOf(sent: SentMessage): TelegramRef {
  const ref = sent.ref as Partial<TelegramRef> | undefined;
  if (sent.platform !== 'telegram' || (ref?.kind !== 'chat' && ref?.kind !== 'inline')) {
    throw new Error(`not a Telegram message: ${sent.platform} ${sent.id}`);
  }
  return ref as TelegramRef;
}

/** The ref of a chat message a button was pressed on. */
export function refOfMessage(message: MaybeInaccessibleMessage, memory: TelegramMemory): ChatRef {
  const chatId = message.chat.id;
  const album = memory.albums.get(`${chatId}:${message.message_id}`);
  const shape = message.photo ? 'photo' : album ? 'album' : 'text';
  return {
    kind: 'chat',
    chatId,
    messageId: message.message_id,
    shape,
    ...(album ? { album } : {}),
    ...placementOf(message),
  };
}

function placementOf(message: MaybeInaccessibleMessage): Placement {
  const placement: Placement = {};
  if (message.reply_to_message) placement.replyTo = message.reply_to_message.message_id;
  if (message.is_topic_message && message.message_thread_id) placement.threadId = message.message_thread_id;
  return placement;
}

function placementFields(placement: Placement): {
  reply_parameters?: ReplyParameters;
  message_thread_id?: number;
} {
  return {
    ...(placement.replyTo === undefined
      ? {}
      : { reply_parameters: { message_id: placement.replyTo, allow_sending_without_reply: true } }),
    ...(placement.threadId === undefined ? {} : { message_thread_id: placement.threadId }),
  };
}

export function isApiError(error: unknown, description: string): boolean {
  return error instanceof GrammyError && error.description.includes(description);
}

async function unlessUnchanged(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!isApiError(error, 'message is not modified')) throw error;
  }
}

const inputFile = (image: ImageAttachment) => new InputFile(image.bytes, image.filename);
const largestPhoto = (message: Message) => message.photo?.at(-1)?.file_id;

export class Messenger {
  constructor(
    private readonly api: Api,
    private readonly codec: CallbackCodec,
    private readonly memory: TelegramMemory,
    /** Where pictures for inline messages are uploaded; the requester's private chat when undefined. */
    private readonly uploadChatId?: number,
  ) {}

  /** Sends `message` to `chatId`; the pictures count among `owner`'s recent images. */
  async send(
    chatId: number,
    message: OutgoingMessage,
    placement: Placement,
    owner: number,
  ): Promise<SentMessage> {
    const images = message.images ?? [];
    const reply_markup = this.codec.keyboard(message.buttons);
    const where = placementFields(placement);
    if (images.length === 0) {
      const sent = await this.api.sendMessage(chatId, clipText(message.text, MAX_TEXT), {
        ...where,
        reply_markup,
      });
      return sentOf({ kind: 'chat', chatId, messageId: sent.message_id, shape: 'text', ...placement });
    }
    if (images.length === 1) {
      const caption = clipText(message.text, MAX_CAPTION);
      const sent = await this.api.sendPhoto(chatId, inputFile(images[0]!), {
        ...where,
        caption,
        reply_markup,
      });
      this.#remember(owner, sent, message.text);
      return sentOf({ kind: 'chat', chatId, messageId: sent.message_id, shape: 'photo', ...placement });
    }
    const media = images
      .slice(0, 10)
      .map((image) =>
        InputMediaBuilder.photo(
          inputFile(image),
          image.description ? { caption: clipText(image.description, MAX_CAPTION) } : {},
        ),
      );
    const photos = await this.api.sendMediaGroup(chatId, media, where);
    for (const [index, photo] of photos.entries()) {
      this.#remember(owner, photo, images[index]?.description ?? message.text);
    }
    const album = photos.map((photo) => photo.message_id);
    const text = await this.api.sendMessage(chatId, clipText(message.text, MAX_TEXT), {
      ...placementFields({ ...placement, replyTo: album[0] }),
      reply_markup,
    });
    this.memory.albums.set(`${chatId}:${text.message_id}`, album);
    return sentOf({ kind: 'chat', chatId, messageId: text.message_id, shape: 'album', album, ...placement });
  }

  async edit(sent: SentMessage, message: OutgoingMessage, owner: number): Promise<SentMessage> {
    const ref = refOf(sent);
    if (ref.kind === 'inline') return this.#editInline(ref, message, owner);
    const images = message.images ?? [];
    const reply_markup = this.codec.keyboard(message.buttons);
    const { chatId, messageId } = ref;
    if (images.length === 0 && ref.shape === 'photo') {
      const caption = clipText(message.text, MAX_CAPTION);
      await unlessUnchanged(this.api.editMessageCaption(chatId, messageId, { caption, reply_markup }));
      return sent;
    }
    if (images.length === 0) {
      const text = clipText(message.text, MAX_TEXT);
      await unlessUnchanged(this.api.editMessageText(chatId, messageId, text, { reply_markup }));
      return sent;
    }
    if (images.length === 1 && ref.shape === 'photo') {
      const media = InputMediaBuilder.photo(inputFile(images[0]!), {
        caption: clipText(message.text, MAX_CAPTION),
      });
      const edited = await this.api.editMessageMedia(chatId, messageId, media, { reply_markup });
      if (edited !== true) this.#remember(owner, edited, message.text);
      return sent;
    }
    // Telegram cannot turn a text message into a photo (or a photo into an album): replace it.
    const next = await this.send(chatId, message, ref, owner);
    await this.delete(sent);
    return next;
  }

  async delete(sent: SentMessage): Promise<void> {
    const ref = refOf(sent);
    if (ref.kind === 'inline') {
      // The Bot API cannot delete inline messages: they lose their buttons and say so instead.
      await this.#editInline(ref, { text: 'Deleted.' }, 0);
      return;
    }
    try {
      if (ref.album?.length) await this.api.deleteMessages(ref.chatId, [...ref.album, ref.messageId]);
      else await this.api.deleteMessage(ref.chatId, ref.messageId);
    } catch (error) {
      if (!isApiError(error, 'message to delete not found')) throw error;
    }
  }

  async #editInline(ref: InlineRef, message: OutgoingMessage, owner: number): Promise<SentMessage> {
    const id = ref.inlineMessageId;
    const images = message.images ?? [];
    const reply_markup = this.codec.keyboard(message.buttons);
    const first = images[0];
    if (first) {
      const more = images.length > 1 ? ` (1 of ${images.length} pictures)` : '';
      const caption = clipText(`${message.text}${more}`, MAX_CAPTION);
      const fileId = await this.#upload(first, owner).catch(() => undefined);
      if (fileId) {
        await this.api.editMessageMediaInline(id, InputMediaBuilder.photo(fileId, { caption }), {
          reply_markup,
        });
        this.memory.rememberImage(owner, { fileId, caption: message.text });
        this.memory.inlinePhotos.set(id, true);
        return sentOf({ ...ref, shape: 'photo' });
      }
      // Nowhere to upload to (they never started a private chat with the bot): the words at least.
      const hint = `${message.text}\n\nStart a private chat with me (tap my name, then Start) so that I can show pictures here.`;
      return this.#editInline(ref, { text: hint, buttons: message.buttons }, owner);
    }
    const caption = () =>
      this.api.editMessageCaptionInline(id, { caption: clipText(message.text, MAX_CAPTION), reply_markup });
    if (ref.shape === 'photo' || this.memory.inlinePhotos.has(id)) {
      await unlessUnchanged(caption());
      return sentOf(ref);
    }
    try {
      await unlessUnchanged(
        this.api.editMessageTextInline(id, clipText(message.text, MAX_TEXT), { reply_markup }),
      );
    } catch (error) {
      // A photo the bot no longer remembers as one (it restarted): its caption is what there is to edit.
      if (!isApiError(error, 'no text in the message')) throw error;
      await unlessUnchanged(caption());
    }
    return sentOf(ref);
  }

  /** Inline messages refuse uploads: the picture goes to a chat for its file_id, then that message goes. */
  async #upload(image: ImageAttachment, owner: number): Promise<string> {
    const chatId = this.uploadChatId ?? owner;
    const sent = await this.api.sendPhoto(chatId, inputFile(image), { disable_notification: true });
    const fileId = largestPhoto(sent);
    await this.api.deleteMessage(chatId, sent.message_id).catch(() => undefined);
    if (!fileId) throw new Error('Telegram returned a photo message without a photo');
    return fileId;
  }

  #remember(owner: number, message: Message, caption: string): void {
    const fileId = largestPhoto(message);
    if (fileId) this.memory.rememberImage(owner, { fileId, caption });
  }
}
