/**
 * The platform-neutral vocabulary of the chat framework: who asked, where, what a reply looks like, and
 * the small contract (`PlatformIO`) each adapter (Discord, Telegram, Slack) implements so that one plugin
 * runs on all three.
 */
import type { HordeClient } from '@hordekit/core';

export type Platform = 'discord' | 'telegram' | 'slack' | 'memory';

/** The person behind an invocation. */
export interface Who {
  platform: Platform;
  /** The platform's user id. */
  id: string;
  displayName: string;
  /** An administrator of this place (guild admin, chat admin, workspace admin/owner). */
  isAdmin: boolean;
}

/** The place an invocation happened in. */
export interface Where {
  platform: Platform;
  /** Guild, chat or workspace id: what settings are kept per. */
  placeId: string;
  channelId: string;
  /** The platform itself marks this place as adult (Discord age-restricted channels). */
  platformAdult: boolean;
  /** A one-to-one conversation with the bot. */
  isPrivate: boolean;
}

export interface ImageAttachment {
  bytes: Uint8Array;
  filename: string;
  /** Alt text / caption for this image alone. */
  description?: string;
}

export type ButtonStyle = 'primary' | 'secondary' | 'danger';

export interface Button {
  label: string;
  /** Routed back to the plugin: `<plugin>:<action>`, with `payload`. */
  action: string;
  payload: string;
  style?: ButtonStyle;
}

/** A message as the framework writes it; each adapter renders it in its platform's terms. */
export interface OutgoingMessage {
  /** Plain text (adapters escape it for their markup). */
  text: string;
  images?: ImageAttachment[];
  /** Rows of buttons. */
  buttons?: Button[][];
}

/** A message the platform accepted: opaque to plugins, meaningful to its adapter. */
export interface SentMessage {
  platform: Platform;
  /** Stable id of the message on its platform. */
  id: string;
  /** Whatever the adapter needs to edit or delete it later. */
  ref: unknown;
}

/** What an adapter provides for one invocation (a command or a button press). */
export interface PlatformIO {
  /**
   * The answer to the invocation: for a command the (deferred) reply, for a button a new message in the
   * same place. `ephemeral` is honoured where the platform has it (Discord, Slack); elsewhere the message
   * goes to the user in private when possible, else to the place.
   */
  reply(message: OutgoingMessage, options?: { ephemeral?: boolean }): Promise<SentMessage>;
  edit(sent: SentMessage, message: OutgoingMessage): Promise<SentMessage>;
  delete(sent: SentMessage): Promise<void>;
  /** The shortest time between two edits of one message that the platform tolerates. */
  readonly editIntervalMs: number;
}

export interface CommandInvocation {
  command: string;
  /** Option values as the platform delivered them (strings, numbers, booleans, user ids). */
  options: Readonly<Record<string, unknown>>;
  who: Who;
  where: Where;
}

export interface ButtonPress {
  /** `<plugin>:<action>` */
  action: string;
  payload: string;
  who: Who;
  where: Where;
  /** The message the button was on. */
  message: SentMessage;
}

export interface AutocompleteRequest {
  command: string;
  option: string;
  /** What the user typed so far. */
  value: string;
  who: Who;
  where: Where;
}

export interface Choice {
  name: string;
  value: string;
}

/** The horde the bots talk to. */
export interface ChatHorde {
  client: HordeClient;
  /** `embedded`: this process's horde; `remote`: any AI Horde over HTTP. */
  mode: 'embedded' | 'remote';
}
