/**
 * Turning send and edit parameters into message content the way the Bot API does: text with entities
 * (`parse_mode: 'HTML'` parsed), inline keyboards validated, replies resolved, files uploaded, fetched
 * from an HTTP URL or reused by file_id, photos measured.
 */
import type { Document, InlineKeyboardMarkup, Message, MessageEntity, PhotoSize } from 'grammy/types';
import { badRequest, DESCRIPTIONS } from './errors.js';
import { type FormattedText, parseHtml } from './html.js';
import { imageInfo } from './image.js';
import { isRecord, isUploadedFile, optionalInt, optionalString, type Params } from './params.js';
import type { StoredFile, TelegramWorld } from './state.js';

export const MAX_TEXT_LENGTH = 4096;
export const MAX_CAPTION_LENGTH = 1024;

const BUTTON_ACTIONS = [
  'callback_data',
  'url',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'callback_game',
  'pay',
  'web_app',
  'copy_text',
];

/** `text` (or `caption`) with its entities, from `parse_mode` or an explicit entity list. */
export function formattedText(source: Params, key: 'text' | 'caption'): FormattedText | undefined {
  const raw = optionalString(source, key);
  if (raw === undefined) return undefined;
  if (optionalString(source, 'parse_mode') === 'HTML') return parseHtml(raw);
  const entities = source[key === 'text' ? 'entities' : 'caption_entities'];
  return Array.isArray(entities) && entities.length > 0
    ? { text: raw, entities: entities as MessageEntity[] }
    : { text: raw };
}

export function requireText(params: Params): FormattedText {
  const text = formattedText(params, 'text');
  if (!text || text.text.trim() === '') throw badRequest(DESCRIPTIONS.textEmpty);
  if (text.text.length > MAX_TEXT_LENGTH) throw badRequest(DESCRIPTIONS.textTooLong);
  return text;
}

/** Caption fields for a media message (`caption`, `caption_entities`), empty when there is none. */
export function captionFields(source: Params): { caption?: string; caption_entities?: MessageEntity[] } {
  const caption = formattedText(source, 'caption');
  if (!caption || caption.text === '') return {};
  if (caption.text.length > MAX_CAPTION_LENGTH) throw badRequest(DESCRIPTIONS.captionTooLong);
  return caption.entities
    ? { caption: caption.text, caption_entities: caption.entities }
    : { caption: caption.text };
}

export function textFields(text: FormattedText): { text: string; entities?: MessageEntity[] } {
  return text.entities ? { text: text.text, entities: text.entities } : { text: text.text };
}

/**
 * The inline keyboard of `reply_markup`, validated like Telegram does. Reply keyboards and force-reply
 * are accepted but, as on Telegram, never appear in the returned message.
 */
export function inlineKeyboard(params: Params): InlineKeyboardMarkup | undefined {
  const markup = params.reply_markup;
  if (!isRecord(markup) || !Array.isArray(markup.inline_keyboard)) return undefined;
  for (const row of markup.inline_keyboard) {
    if (!Array.isArray(row)) throw badRequest("can't parse inline keyboard: rows must be arrays");
    for (const button of row) {
      if (!isRecord(button) || typeof button.text !== 'string')
        throw badRequest("can't parse inline keyboard button");
      if (!BUTTON_ACTIONS.some((action) => button[action] !== undefined)) {
        throw badRequest(DESCRIPTIONS.textButtonInInlineKeyboard);
      }
      const data = button.callback_data;
      if (data !== undefined && (typeof data !== 'string' || data === '' || Buffer.byteLength(data) > 64)) {
        throw badRequest(DESCRIPTIONS.buttonDataInvalid);
      }
    }
  }
  return { inline_keyboard: markup.inline_keyboard } as InlineKeyboardMarkup;
}

/** A message as it appears inside `reply_to_message`: without a reply of its own. */
export type ReplyTo = NonNullable<Message['reply_to_message']>;

export function asReply(message: Message): ReplyTo {
  const { reply_to_message: _nested, ...reply } = structuredClone(message);
  return reply as ReplyTo;
}

/** The message replied to (`reply_parameters` or the older `reply_to_message_id`). */
export function repliedMessage(
  world: TelegramWorld,
  chatId: number | string,
  params: Params,
): ReplyTo | undefined {
  const parameters = isRecord(params.reply_parameters) ? params.reply_parameters : {};
  const messageId = optionalInt(parameters, 'message_id') ?? optionalInt(params, 'reply_to_message_id');
  if (messageId === undefined) return undefined;
  const target = world.message(chatId, messageId);
  if (target) return asReply(target);
  if (parameters.allow_sending_without_reply === true || params.allow_sending_without_reply === true)
    return undefined;
  throw badRequest(DESCRIPTIONS.messageToReplyNotFound);
}

/** An InputFile parameter: an upload, a known file_id, or an HTTP URL the server downloads. */
export async function resolveFile(
  world: TelegramWorld,
  value: unknown,
  kind: 'photo' | 'document',
  options: { allowUpload?: boolean } = {},
): Promise<StoredFile> {
  if (value === undefined || value === null || value === '')
    throw badRequest(`there is no ${kind} in the request`);
  if (isUploadedFile(value)) {
    if (options.allowUpload === false) throw badRequest(DESCRIPTIONS.inlineUpload);
    return storeUpload(world, value.bytes, value.filename, value.type, kind);
  }
  if (typeof value !== 'string') throw badRequest(DESCRIPTIONS.wrongFileId);
  const known = world.file(value);
  if (known) return known;
  if (!/^https?:\/\//.test(value)) throw badRequest(DESCRIPTIONS.wrongFileId);
  let bytes: Buffer;
  let type: string;
  try {
    const response = await fetch(value, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = Buffer.from(await response.arrayBuffer());
    type = response.headers.get('content-type') ?? 'application/octet-stream';
  } catch {
    throw badRequest(DESCRIPTIONS.urlContentFailed);
  }
  const name = new URL(value).pathname.split('/').pop() || `${kind}.dat`;
  return storeUpload(world, bytes, name, type, kind);
}

/** Stores uploaded bytes; a photo must be an image whose size Telegram accepts. */
export function storeUpload(
  world: TelegramWorld,
  bytes: Buffer,
  name: string,
  type: string,
  kind: 'photo' | 'document',
): StoredFile {
  if (kind === 'document') return world.storeFile(bytes, name, mimeFromName(name, type), 'documents');
  const image = imageInfo(bytes);
  if (!image) throw badRequest(DESCRIPTIONS.imageProcessFailed);
  const ratio = Math.max(image.width, image.height) / Math.max(1, Math.min(image.width, image.height));
  if (image.width + image.height > 10_000 || ratio > 20)
    throw badRequest(DESCRIPTIONS.photoInvalidDimensions);
  return world.storeFile(bytes, name, image.mime, 'photos', { width: image.width, height: image.height });
}

/** One size, the uploaded original; the real server adds smaller re-encoded ones before it. */
export function photoSizes(file: StoredFile): PhotoSize[] {
  return [
    {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      width: file.width ?? 0,
      height: file.height ?? 0,
      file_size: file.file_size,
    },
  ];
}

export function documentOf(file: StoredFile): Document {
  return {
    file_id: file.file_id,
    file_unique_id: file.file_unique_id,
    file_name: file.file_name,
    mime_type: file.mime_type,
    file_size: file.file_size,
  };
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  txt: 'text/plain',
  json: 'application/json',
  pdf: 'application/pdf',
  zip: 'application/zip',
};

/** Clients (grammY included) upload as application/octet-stream; Telegram guesses from the name. */
function mimeFromName(name: string, sent: string): string {
  const extension = /\.(\w+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return MIME_BY_EXTENSION[extension] ?? (sent === '' ? 'application/octet-stream' : sent);
}
