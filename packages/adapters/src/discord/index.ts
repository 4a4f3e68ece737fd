/**
 * @hordekit/adapters/discord: the chat app on Discord through discord.js — slash commands registered
 * over REST, deferred replies edited with progress, images as attachments with embeds, buttons,
 * autocomplete, and a channel-message fallback once an interaction token expires.
 */

// The adapter: standalone, or attached to an existing discord.js Client.
export { createDiscordAdapter, type DiscordAdapter, type DiscordAdapterOptions } from './adapter.js';

// Building blocks, for bots that wire interactions themselves.
export { type RegisterCommandsOptions, registerCommands, toSlashCommand } from './commands.js';
export { optionsOf, whereOf, whoOf } from './invocation.js';
export { type Deferral, type DiscordMessageRef, EDIT_INTERVAL_MS, InteractionIO } from './io.js';
export { decodeCustomId, encodeCustomId, renderMessage } from './render.js';
