/** The fake Bot API's sending methods: sendMessage, sendPhoto, sendDocument, sendMediaGroup, sendChatAction. */
import type { Message } from 'grammy/types';
import {
  captionFields,
  documentOf,
  inlineKeyboard,
  photoSizes,
  repliedMessage,
  requireText,
  resolveFile,
  textFields,
} from './content.js';
import { badRequest, DESCRIPTIONS } from './errors.js';
import { isRecord, optionalString, type Params, requireChatId, requireString } from './params.js';
import type { MethodCall, MethodHandler, TelegramWorld } from './state.js';

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** Fields every sent message shares: sender, reply, keyboard, thread. */
function envelope(world: TelegramWorld, chatId: number | string, params: Params): Partial<Message> {
  const fields: Partial<Message> = { from: world.botUser };
  const reply = repliedMessage(world, chatId, params);
  if (reply) fields.reply_to_message = reply;
  const keyboard = inlineKeyboard(params);
  if (keyboard) fields.reply_markup = keyboard;
  if (typeof params.message_thread_id === 'number') fields.message_thread_id = params.message_thread_id;
  if (params.has_spoiler === true) fields.has_media_spoiler = true;
  return fields;
}

function sendMessage({ params, world }: MethodCall): Message {
  const chatId = requireChatId(params);
  world.chat(chatId);
  const text = requireText(params);
  return world.postMessage(chatId, { ...envelope(world, chatId, params), ...textFields(text) });
}

async function sendPhoto({ params, world }: MethodCall): Promise<Message> {
  const chatId = requireChatId(params);
  world.chat(chatId);
  const fields = { ...envelope(world, chatId, params), ...captionFields(params) };
  const file = await resolveFile(world, params.photo, 'photo');
  return world.postMessage(chatId, { ...fields, photo: photoSizes(file) });
}

async function sendDocument({ params, world }: MethodCall): Promise<Message> {
  const chatId = requireChatId(params);
  world.chat(chatId);
  const fields = { ...envelope(world, chatId, params), ...captionFields(params) };
  const file = await resolveFile(world, params.document, 'document');
  return world.postMessage(chatId, { ...fields, document: documentOf(file) });
}

/** Photos and documents only; the fake has no audio or video. */
async function sendMediaGroup({ params, world }: MethodCall): Promise<Message[]> {
  const chatId = requireChatId(params);
  world.chat(chatId);
  const media = params.media;
  if (!Array.isArray(media) || media.length < 2 || media.length > 10)
    throw badRequest(DESCRIPTIONS.mediaGroupSize);
  const { reply_markup: _noKeyboardInAlbums, ...shared } = envelope(world, chatId, params);
  const items: Partial<Message>[] = [];
  for (const item of media) {
    if (!isRecord(item)) throw badRequest("can't parse InputMedia: object expected");
    const type = optionalString(item, 'type');
    if (type !== 'photo' && type !== 'document') {
      throw badRequest(`the fake Telegram supports photo and document media only, not "${type}"`);
    }
    const file = await resolveFile(world, item.media, type);
    const content = type === 'photo' ? { photo: photoSizes(file) } : { document: documentOf(file) };
    items.push({ ...shared, ...captionFields(item), ...content });
  }
  const media_group_id = world.nextMediaGroupId();
  return items.map((item) => world.postMessage(chatId, { ...item, media_group_id }));
}

function sendChatAction({ params, world }: MethodCall): true {
  world.chat(requireChatId(params));
  if (!CHAT_ACTIONS.has(requireString(params, 'action'))) throw badRequest(DESCRIPTIONS.wrongChatAction);
  return true;
}

export const sendMethods: Record<string, MethodHandler> = {
  sendMessage,
  sendPhoto,
  sendDocument,
  sendMediaGroup,
  sendChatAction,
};
