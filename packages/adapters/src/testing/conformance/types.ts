/**
 * What the adapter conformance suite drives: a platform through its driver (a person's commands and
 * button presses in, what that person sees out) and a horde with a worker to draw on. Each platform's
 * driver speaks its platform's protocol to a fake API; the suite only speaks these words.
 */
import type { ChatApp } from '../../framework/app.js';
import type { ButtonStyle, ChatHorde, Platform, Where } from '../../framework/types.js';

/** The people every driver plays: two members of the place and an admin of it. */
export type DriverUser = 'alice' | 'bob' | 'admin';

/**
 * `public`: a place that does not allow adult content; `adult`: one that does once `makeAdult` ran (a
 * Discord age-restricted channel is one already; Telegram chats and Slack workspaces are by a setting).
 */
export type DriverPlace = 'public' | 'adult';

/** An option value as the suite gives it: text, a number, or a person (each platform names people its way). */
export type DriverOption = string | number | { user: DriverUser };

export interface DriverButton {
  label: string;
  /** What the button carries back to the framework: `<plugin>:<action>` and its payload. */
  action: string;
  payload: string;
  /** As the platform shows it; absent on platforms without button styles (Telegram). */
  style?: ButtonStyle;
}

/** A message of the bot's as a person sees it. */
export interface DriverMessage {
  /** The message's id on its platform: the same through edits. */
  id: string;
  text: string;
  /** The pictures it shows, as bytes. */
  images: Uint8Array[];
  /** Its buttons, rows flattened. */
  buttons: DriverButton[];
  /** Only the person it was read for sees it: ephemeral, or in their private chat with the bot. */
  private: boolean;
  /** The platform's own message, for the driver's `press` and `expectRendered`. */
  raw: unknown;
}

export interface PlatformDriver {
  readonly platform: Platform;
  /** The platform's ids and display names of the people it plays (sentences name people by display name). */
  readonly users: Readonly<Record<DriverUser, { id: string; displayName: string }>>;
  /** Where each place's settings are kept (`chat.settings.update(driver.places.public, …)`). */
  readonly places: Readonly<Record<DriverPlace, Pick<Where, 'platform' | 'placeId'>>>;
  /** The shortest time between two edits of a message in the public place, as the adapter is set up. */
  readonly editIntervalMs: number;
  /** Starts the fake platform and the adapter serving `chat`. */
  start(chat: ChatApp): Promise<void>;
  stop(): Promise<void>;
  /**
   * `user` runs `/command` in `where` (default `public`); resolves once the adapter has finished with it.
   * `ackMs`: from the platform delivering the command to the bot's acknowledgement (what the person sees
   * first), which the driver checks is its platform's kind of acknowledgement.
   */
  command(
    user: DriverUser,
    command: string,
    options?: Record<string, DriverOption>,
    where?: DriverPlace,
  ): Promise<{ ackMs: number }>;
  /** `user` presses the button labelled `label` on `message`; resolves once the adapter has finished. */
  press(user: DriverUser, message: DriverMessage, label: string): Promise<void>;
  /** The bot's last message that `user` sees in `where` (default `public`), private ones included. */
  lastMessageFor(user: DriverUser, where?: DriverPlace): Promise<DriverMessage>;
  /** The bot's messages everyone in `where` (default `public`) sees now, oldest first. */
  publicMessages(where?: DriverPlace): Promise<DriverMessage[]>;
  /**
   * Every version the last command's progress message showed, oldest first, until the result took its
   * place (the result itself not included).
   */
  lastProgress(): Promise<DriverMessage[]>;
  /** Makes the `adult` place allow adult content, the platform's way. */
  makeAdult(chat: ChatApp): Promise<void>;
  /** Resolves once the adapter has finished everything it started (`command` and `press` wait for it too). */
  settle(): Promise<void>;
  /** Checks of the platform's own rendering of a `/draw` result (embeds, replies, uploads). */
  expectRendered?(result: DriverMessage): void | Promise<void>;
}

/** A horde with one image worker serving `stable_diffusion`, and what the suite needs to check on it. */
export interface ConformanceHorde {
  /** The client the chat app draws with, and whether it is this process's horde or a remote one. */
  horde: ChatHorde;
  /** The worker's name, as result captions show it. */
  workerName: string;
  /** Resolves once the horde would send the worker jobs (call after the platform has started). */
  ready(): Promise<void>;
  /** What the worker uploaded for generation `index` of the request. */
  uploadedBytes(requestId: string, index?: number): Promise<Uint8Array | undefined>;
  /** Sets the balance of the account with this alias, as an administrator does (a debit stops at its floor). */
  setKudos(alias: string, kudos: number): Promise<void>;
  /** How long the worker takes a sampling step from its next job on; none: its usual quick pace. */
  pace(stepDelayMs?: number): void;
  /** Fails unless the horde's kudos ledger adds up. */
  expectConsistentLedger(): Promise<void>;
  close(): Promise<void>;
}

export type DriverFactory = () => PlatformDriver;
export type HordeFactory = () => Promise<ConformanceHorde>;
