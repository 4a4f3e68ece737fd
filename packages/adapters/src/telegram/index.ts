/**
 * @hordekit/adapters/telegram: a chat app (`createChatApp`) served on Telegram with grammY — commands in
 * private chats and groups, inline keyboards for buttons, inline mode (`@bot a prompt`), long polling or
 * webhooks behind the secret token, Telegram's flood control respected; standalone or inside an existing
 * grammY `Bot`.
 */

// The adapter: standalone, or attached to an existing grammY Bot.
export { createTelegramAdapter, type TelegramAdapter, type TelegramAdapterOptions } from './adapter.js';

// Building blocks, for bots that wire grammY themselves.
export { type CommandOptions, commandOptions } from './command-text.js';
export { type FloodRetryOptions, floodRetry } from './flood.js';
export { displayName, INLINE_PLACE_ID, inlineWhere, whereOfChat, whoOf } from './identity.js';
export { type ChatTarget, chatIo, type InlineTarget, inlineIo } from './io.js';
export type { EditIntervals } from './kit.js';
export { TelegramMemory } from './memory.js';
export { type ChatRef, type InlineRef, Messenger, type Placement, type TelegramRef } from './messages.js';
export { CallbackCodec, clipText } from './render.js';
