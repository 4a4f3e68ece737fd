/**
 * The fake Bot API's editing methods (editMessageText, editMessageCaption, editMessageMedia,
 * editMessageReplyMarkup, by chat_id + message_id or inline_message_id) and deleteMessage(s).
 * As on Telegram: an edit without `reply_markup` removes the inline keyboard, an edit that changes
 * nothing fails with "message is not modified", editMessageMedia may turn a text message into a photo,
 * and inline messages cannot get a newly uploaded file.
 */
import type { Message } from 'grammy/types';
import {
  captionFields,
  documentOf,
  inlineKeyboard,
  photoSizes,
  requireText,
  resolveFile,
  textFields,
} from './content.js';
import { badRequest, DESCRIPTIONS } from './errors.js';
import { isRecord, optionalString, type Params, requireChatId, requireInt } from './params.js';
import type { InlineMessage, MethodCall, MethodHandler, TelegramWorld } from './state.js';

/** The fields an edit can change; chat messages and inline messages both have them. */
type Editable = Omit<InlineMessage, 'inline_message_id'>;
type Target = { message: Message; inline: false } | { message: InlineMessage; inline: true };

const CONTENT_KEYS = [
  'text',
  'entities',
  'caption',
  'caption_entities',
  'photo',
  'document',
  'media_url',
  'reply_markup',
] as const;

function findTarget(world: TelegramWorld, params: Params): Target {
  const inlineMessageId = optionalString(params, 'inline_message_id');
  if (inlineMessageId !== undefined) {
    const message = world.inlineMessages.get(inlineMessageId);
    if (!message) throw badRequest(DESCRIPTIONS.messageToEditNotFound);
    return { message, inline: true };
  }
  if (params.chat_id === undefined || params.message_id === undefined) {
    throw badRequest(DESCRIPTIONS.messageIdentifierMissing);
  }
  const message = world.message(requireChatId(params), requireInt(params, 'message_id'));
  if (!message) throw badRequest(DESCRIPTIONS.messageToEditNotFound);
  if (message.from?.id !== world.bot.id) throw badRequest(DESCRIPTIONS.messageCantBeEdited);
  return { message, inline: false };
}

const hasMedia = (message: Editable) => Boolean(message.photo || message.document || message.media_url);

/** Applies `change` (an `undefined` value removes the field) unless it changes nothing. */
function applyEdit(world: TelegramWorld, target: Target, change: Partial<Editable>): Message | true {
  const fields = target.message as unknown as Record<string, unknown>;
  const snapshot = (source: Record<string, unknown>) =>
    JSON.stringify(CONTENT_KEYS.map((key) => source[key] ?? null));
  if (snapshot(fields) === snapshot({ ...fields, ...change })) throw badRequest(DESCRIPTIONS.notModified);
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete fields[key];
    else fields[key] = value;
  }
  target.message.edit_date = world.unixTime();
  return target.inline ? true : structuredClone(target.message);
}

function editMessageText({ params, world }: MethodCall): Message | true {
  const target = findTarget(world, params);
  if (target.message.text === undefined) throw badRequest(DESCRIPTIONS.noTextToEdit);
  const text = textFields(requireText(params));
  return applyEdit(world, target, { entities: undefined, ...text, reply_markup: inlineKeyboard(params) });
}

function editMessageCaption({ params, world }: MethodCall): Message | true {
  const target = findTarget(world, params);
  if (!hasMedia(target.message)) throw badRequest(DESCRIPTIONS.noCaptionToEdit);
  return applyEdit(world, target, {
    caption: undefined,
    caption_entities: undefined,
    ...captionFields(params),
    reply_markup: inlineKeyboard(params),
  });
}

async function editMessageMedia({ params, world }: MethodCall): Promise<Message | true> {
  const target = findTarget(world, params);
  // The Bot API (9.x, as grammY 1.46's types say) also replaces a text message with a medium.
  const media = params.media;
  if (!isRecord(media)) throw badRequest("can't parse InputMedia JSON object");
  const type = optionalString(media, 'type');
  if (type !== 'photo' && type !== 'document') {
    throw badRequest(`the fake Telegram supports photo and document media only, not "${type}"`);
  }
  const file = await resolveFile(world, media.media, type, { allowUpload: !target.inline });
  return applyEdit(world, target, {
    text: undefined,
    entities: undefined,
    photo: type === 'photo' ? photoSizes(file) : undefined,
    document: type === 'document' ? documentOf(file) : undefined,
    media_url: undefined,
    caption: undefined,
    caption_entities: undefined,
    ...captionFields(media),
    reply_markup: inlineKeyboard(params),
  });
}

function editMessageReplyMarkup({ params, world }: MethodCall): Message | true {
  return applyEdit(world, findTarget(world, params), { reply_markup: inlineKeyboard(params) });
}

function deleteMessage({ params, world }: MethodCall): true {
  if (!world.deleteMessage(requireChatId(params), requireInt(params, 'message_id'))) {
    throw badRequest(DESCRIPTIONS.messageToDeleteNotFound);
  }
  return true;
}

function deleteMessages({ params, world }: MethodCall): true {
  const chatId = requireChatId(params);
  world.chat(chatId);
  const ids = params.message_ids;
  if (!Array.isArray(ids) || ids.length === 0) throw badRequest('message_ids is empty');
  for (const id of ids) if (typeof id === 'number') world.deleteMessage(chatId, id);
  return true;
}

export const editMethods: Record<string, MethodHandler> = {
  editMessageText,
  editMessageCaption,
  editMessageMedia,
  editMessageReplyMarkup,
  deleteMessage,
  deleteMessages,
};
