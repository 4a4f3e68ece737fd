/**
 * The shapes the fake Slack platform keeps and hands out: its options, what a channel shows (messages with
 * their files and bytes), what an app posted to a `response_url`, and what an app answered when the fake
 * drove it over HTTP or Socket Mode.
 */

/** Extra fields are returned verbatim by `conversations.info` (e.g. a flag the adapter reads as "adult allowed"). */
export interface FakeSlackChannelInit {
  name?: string;
  /** @default false */
  is_private?: boolean;
  [field: string]: unknown;
}

/** Extra fields are returned verbatim by `users.info`. */
export interface FakeSlackUserInit {
  name?: string;
  real_name?: string;
  /** @default false */
  is_admin?: boolean;
  /** @default false */
  is_owner?: boolean;
  [field: string]: unknown;
}

export interface FakeSlackOptions {
  /** The bot's user id, answered by `auth.test` and set on the bot's messages. @default 'U0BOT' */
  botUserId?: string;
  /** @default 'B0BOT' */
  botId?: string;
  /** @default 'T0TEAM' */
  teamId?: string;
  /** @default 'hordekit-test' */
  teamDomain?: string;
  /** @default 'A0APP' */
  appId?: string;
  /** Signs the requests the fake sends into an app. @default 'fake-signing-secret' */
  signingSecret?: string;
  /** The only bot token the Web API accepts. @default 'xoxb-fake-bot-token' */
  botToken?: string;
  /** The only app-level token `apps.connections.open` accepts. @default 'xapp-fake-app-token' */
  appToken?: string;
  /** Channels that exist. @default { C0GENERAL: { name: 'general' } } */
  channels?: Record<string, FakeSlackChannelInit>;
  /** Users besides the bot. @default { U0ALICE: { name: 'alice' } } */
  users?: Record<string, FakeSlackUserInit>;
}

export interface FakeSlackFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  user: string;
  created: number;
  /** Served by the fake at `GET /files/<id>` with the bot token. */
  url_private: string;
  permalink: string;
  alt_txt?: string;
  channels: string[];
  /** The messages the file was shared in, by visibility and channel (as `files.info` shows them). */
  shares?: Partial<Record<'public' | 'private', Record<string, FakeSlackFileShare[]>>>;
  /** The uploaded bytes; `undefined` until `POST /upload/<id>` arrived. */
  bytes?: Buffer;
}

export interface FakeSlackFileShare {
  /** The message the file appears in. */
  ts: string;
  channel_name: string;
  team_id: string;
  share_user_id: string;
}

export interface FakeSlackMessage {
  ts: string;
  channel: string;
  /** The author: the bot's user id for anything the app posted. */
  user: string;
  bot_id?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  files?: FakeSlackFile[];
  /** Only `ephemeralTo` sees it (chat.postEphemeral, or an ephemeral response_url post). */
  ephemeral?: boolean;
  ephemeralTo?: string;
  /** Set by chat.update or a `replace_original` response. */
  edited?: { ts: string };
  /** How the message was made: `chat.postMessage`, `files.completeUploadExternal`, `response_url`, ... */
  via: string;
}

/** One JSON body an app posted to a `response_url` the fake handed out. */
export interface ResponseUrlPost {
  text?: string;
  blocks?: unknown[];
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  delete_original?: boolean;
  [field: string]: unknown;
}

/** How a request into the app is signed. */
export type SignatureMode = 'valid' | 'invalid' | 'stale' | 'missing';

export interface DriveOptions {
  /** @default 'valid' */
  signature?: SignatureMode;
}

/** The app's HTTP answer, which is Bolt's `ack()`. */
export interface AppAnswer {
  status: number;
  /** The raw response body (`ack('text')` gives that text, `ack({ ... })` gives JSON). */
  body: string;
  /** Milliseconds from sending the request to receiving the answer. */
  ackMs: number;
}

export interface SlashCommandInit {
  command: string;
  text?: string;
  /** @default the first configured user */
  user_id?: string;
  user_name?: string;
  /** @default the first configured channel */
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
}

export interface BlockActionInit {
  /** The clicking user's id. @default the first configured user */
  user?: string;
  channel: string;
  message_ts: string;
  action_id: string;
  value?: string;
  /** @default 'actions' */
  block_id?: string;
}

/** What a driving helper sent, so the test can follow up on the `response_url` it carried. */
export interface SentInteraction {
  responseToken: string;
  responseUrl: string;
  triggerId: string;
}

/** The app's acknowledgement of a Socket Mode envelope. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  ackMs: number;
}
