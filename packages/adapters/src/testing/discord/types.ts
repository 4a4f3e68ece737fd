/**
 * The shapes a test sees when it drives the fake Discord: its options, the users and options it sends,
 * and the messages and commands the bot left behind (Discord's own snake_case JSON, as the REST API
 * returns it).
 */

export interface FakeDiscordOptions {
  /** The bot's application id. @default '100000000000000001' */
  applicationId?: string;
  /** The bot user's id (Discord gives bots the application's id). @default applicationId */
  botUserId?: string;
  /** @default 'hordekit-bot' */
  botUsername?: string;
  /** When set, REST calls with another `Bot` token get 401 and IDENTIFY with another token is closed (4004). */
  token?: string;
  /** Guilds the bot is in; each becomes a GUILD_CREATE after READY. @default [] */
  guilds?: FakeGuildInit[];
  /** The bot's role permissions in every guild, sent as `app_permissions`. @default DEFAULT_EVERYONE_PERMISSIONS */
  botPermissions?: string;
  /** How long an interaction token stays usable for webhook calls. @default 900_000 (15 minutes) */
  tokenLifetimeMs?: number;
  /** How long after the dispatch the first callback is accepted (Discord: 3 s). @default 3_000 */
  callbackDeadlineMs?: number;
  /** The gateway HELLO interval; discord.js sends its first heartbeat after a random part of it. @default 41_250 */
  heartbeatIntervalMs?: number;
}

export interface FakeGuildInit {
  id: string;
  /** @default `guild <id>` */
  name?: string;
  channels: { id: string; name?: string; nsfw?: boolean }[];
  /** Members with a role carrying `permissions` (a bitfield string, admin is '8'); others get @everyone's. */
  members?: { id: string; username: string; permissions?: string }[];
}

export interface FakeUser {
  id: string;
  username: string;
}

/** A slash command option as Discord sends it (type 3 string, 4 integer, 5 boolean, 1 subcommand …). */
export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: CommandOption[];
  focused?: boolean;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  /** `<fake url>/attachments/<id>/<filename>`; the fake serves the uploaded bytes there. */
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
}

/** A message as Discord's REST API returns it, plus nothing else. Edits and deletes are applied in place. */
export interface FakeMessage {
  id: string;
  /** 0 default, 20 the original response to a slash command. */
  type: number;
  channel_id: string;
  author: ApiUser;
  content: string;
  embeds: Record<string, unknown>[];
  components: Record<string, unknown>[];
  attachments: FakeAttachment[];
  /** 64 ephemeral, 128 loading (a deferred response not yet edited). */
  flags: number;
  timestamp: string;
  edited_timestamp: string | null;
  tts: false;
  mention_everyone: false;
  mentions: [];
  mention_roles: [];
  pinned: false;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: Record<string, unknown>;
}

export interface ApiUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: null;
  bot?: boolean;
  public_flags: number;
}

/** A command as stored by PUT/POST on `/applications/:app(/guilds/:guild)/commands`, with its id. */
export interface StoredCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  name: string;
  type: number;
  version: string;
  [field: string]: unknown;
}

export interface AutocompleteChoice {
  name: string;
  value: string | number;
}

/** What the bot answered on `POST /interactions/:id/:token/callback`. */
export interface Acknowledgement {
  /** 4 message, 5 deferred message, 6 deferred update, 7 update, 8 autocomplete, 9 modal. */
  type: number;
  /** From the INTERACTION_CREATE dispatch to the callback's arrival. */
  ms: number;
  /** The callback's `data` (message fields, `choices`, or the modal). */
  data: Record<string, unknown>;
}

export interface StartedInteraction {
  interaction: { id: string; token: string };
  /** Resolves on the first callback; rejects when none came within `callbackDeadlineMs`. */
  acknowledged: Promise<Acknowledgement>;
}

export interface SlashCommandInput {
  /** Omit for a DM: the payload then carries `user` and a type 1 channel. */
  guildId?: string;
  /** A configured guild channel; for a DM the user's DM channel by default. */
  channelId?: string;
  user: FakeUser;
  name: string;
  options?: CommandOption[];
  /** @default 'en-US' */
  locale?: string;
  /** Overrides the member's permissions (bitfield string). */
  permissions?: string;
}

export interface PressButtonInput {
  /** The message carrying the component (for example `fake.original(token)`), or its id. */
  message: FakeMessage | string;
  custom_id: string;
  user: FakeUser;
  /** 2 button, 3 string select … @default 2 */
  component_type?: number;
  /** Selected values, for select menus. */
  values?: string[];
  /** @default 'en-US' */
  locale?: string;
  permissions?: string;
}

export interface AutocompleteInput extends Omit<SlashCommandInput, 'options'> {
  /** The options already filled in, without the focused one. */
  options?: CommandOption[];
  /** The option being typed. `type` @default 3 (string) */
  focused: { name: string; value: string; type?: number };
}

/** Every REST route the fake serves, as logged in `CallLog` and accepted by `rateLimitNext`/`failNext`. */
export type DiscordRoute =
  | 'GET /gateway/bot'
  | 'GET /users/@me'
  | 'GET /users/:user'
  | 'POST /users/@me/channels'
  | 'GET /applications/@me'
  | 'GET /applications/:app/commands'
  | 'PUT /applications/:app/commands'
  | 'POST /applications/:app/commands'
  | 'DELETE /applications/:app/commands/:command'
  | 'GET /applications/:app/guilds/:guild/commands'
  | 'PUT /applications/:app/guilds/:guild/commands'
  | 'POST /applications/:app/guilds/:guild/commands'
  | 'DELETE /applications/:app/guilds/:guild/commands/:command'
  | 'POST /interactions/:id/:token/callback'
  | 'POST /webhooks/:app/:token'
  | 'GET /webhooks/:app/:token/messages/:message'
  | 'PATCH /webhooks/:app/:token/messages/:message'
  | 'DELETE /webhooks/:app/:token/messages/:message'
  | 'GET /channels/:channel'
  | 'GET /channels/:channel/messages'
  | 'POST /channels/:channel/messages'
  | 'GET /channels/:channel/messages/:message'
  | 'PATCH /channels/:channel/messages/:message'
  | 'DELETE /channels/:channel/messages/:message'
  | 'POST /channels/:channel/typing'
  | 'GET /guilds/:guild'
  | 'GET /guilds/:guild/members/:user';

/** A Discord JSON error: `{ message, code }` with an HTTP status. */
export interface DiscordErrorReply {
  status: number;
  code: number;
  message: string;
}
