/**
 * @hordekit/adapters: one plugin definition served on Discord, Telegram and Slack. The framework
 * (`defineCommand`, `definePlugin`, `createChatApp`, middleware, the error boundary) and the built-in
 * plugins; the platform adapters are subpaths (`@hordekit/adapters/telegram`, …).
 */
export { ChatApp, type ChatAppOptions, createChatApp } from './framework/app.js';
export type {
  AnyContext,
  BaseContext,
  ButtonContext,
  CommandContext,
  HordeAccount,
  Middleware,
  ProgressHandle,
} from './framework/context.js';
export { compose } from './framework/context.js';
export {
  type ButtonDefinition,
  type CommandDefinition,
  defineCommand,
  definePlugin,
  type OptionSpec,
  type OptionSpecs,
  type PluginDefinition,
} from './framework/define.js';
export { explainError, HordeRefusal, UserError } from './framework/errors.js';
export { type ChatLogger, concurrencyCap, cooldown, logging, promptGate } from './framework/middleware.js';
export {
  adultAllowed,
  DEFAULT_SETTINGS,
  type PlaceSettings,
  PlaceSettingsSchema,
  SettingsStore,
} from './framework/settings.js';
export { parseTextOptions, tokenize } from './framework/text-options.js';
export type * from './framework/types.js';
// The person's account (/worker, /link), waiting pictures (/cancel) and the place's settings (/settings)
export { type AccountPlugin, type AccountPluginOptions, accountPlugin } from './plugins/account.js';
export { type CancelPluginOptions, cancelPlugin } from './plugins/cancel.js';
export { type DrawPluginOptions, drawPlugin, SIZES } from './plugins/draw.js';
export { DrawRequests, type RunningDraw } from './plugins/draw-requests.js';
export { kudosPlugin } from './plugins/kudos.js';
export { type SettingsPluginOptions, settingsPlugin } from './plugins/settings.js';
export { createRemoteClient, type RemoteClientOptions } from './remote/remote-client.js';
