/**
 * What a plugin's handler holds: who, where, the options, the place's settings, the requester's horde
 * account, and replies — including a progress handle that edits one message no faster than the platform
 * allows. Middleware has grammY's shape: `(context, next) => Promise<void>`, `next` callable once.
 */
import type { AccountSummary, Credentials } from '@hordekit/core';
import type { PlaceSettings } from './settings.js';
import type {
  ButtonPress,
  ChatHorde,
  OutgoingMessage,
  PlatformIO,
  SentMessage,
  Where,
  Who,
} from './types.js';

export interface HordeAccount {
  credentials: Credentials;
  summary: AccountSummary;
  /** Shared by everyone without a linked key (remote mode): not theirs to give away. */
  shared: boolean;
}

export interface BaseContext {
  who: Who;
  where: Where;
  horde: ChatHorde;
  settings: PlaceSettings;
  /** The requester's horde account (created on first use); cached for the invocation. */
  account(): Promise<HordeAccount>;
  reply(message: OutgoingMessage | string): Promise<SentMessage>;
  /** Only the requester sees it where the platform allows (Discord, Slack). */
  ephemeral(message: OutgoingMessage | string): Promise<SentMessage>;
  /** One message edited as things progress; `finish` writes the last version. */
  progress(first: OutgoingMessage | string): Promise<ProgressHandle>;
  edit(sent: SentMessage, message: OutgoingMessage | string): Promise<SentMessage>;
  delete(sent: SentMessage): Promise<void>;
  /** Values middleware shares with handlers (e.g. the request being drawn). */
  state: Record<string, unknown>;
}

export interface CommandContext<Options = Record<string, unknown>> extends BaseContext {
  kind: 'command';
  command: string;
  options: Options;
}

export interface ButtonContext extends BaseContext {
  kind: 'button';
  press: ButtonPress;
}

export type AnyContext = CommandContext | ButtonContext;

export type Middleware = (context: AnyContext, next: () => Promise<void>) => Promise<void>;

/** Runs `middleware` in order around `handler`; each `next` may be called once. */
export function compose(middleware: readonly Middleware[], handler: (context: AnyContext) => Promise<void>) {
  return (context: AnyContext): Promise<void> => {
    const run = (index: number): Promise<void> => {
      const current = middleware[index];
      if (!current) return handler(context);
      let called = false;
      return current(context, () => {
        if (called) throw new Error('next() called twice in one middleware');
        called = true;
        return run(index + 1);
      });
    };
    return run(0);
  };
}

export interface ProgressHandle {
  /** Shows `message` soon: at once if the last edit is old enough, else when it is; only the latest counts. */
  update(message: OutgoingMessage | string): void;
  /** Waits for pending edits, then writes `message` as the final version. */
  finish(message: OutgoingMessage | string): Promise<SentMessage>;
  readonly message: SentMessage;
}

const toMessage = (message: OutgoingMessage | string): OutgoingMessage =>
  typeof message === 'string' ? { text: message } : message;

/** A throttled editor of one message. */
export async function createProgress(
  io: PlatformIO,
  first: OutgoingMessage | string,
): Promise<ProgressHandle> {
  let sent = await io.reply(toMessage(first));
  let lastEdit = Date.now();
  let pending: OutgoingMessage | undefined;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let finished = false;

  const flush = () => {
    timer = undefined;
    const message = pending;
    pending = undefined;
    if (!message || finished) return;
    lastEdit = Date.now();
    chain = chain
      .then(async () => {
        sent = await io.edit(sent, message);
      })
      // A failed progress edit (rate limit, deleted message) is not worth failing the request for.
      .catch(() => {});
  };

  return {
    get message() {
      return sent;
    },
    update(message) {
      if (finished) return;
      pending = toMessage(message);
      if (timer) return;
      const wait = Math.max(0, lastEdit + io.editIntervalMs - Date.now());
      timer = setTimeout(flush, wait);
    },
    async finish(message) {
      finished = true;
      if (timer) clearTimeout(timer);
      pending = undefined;
      await chain;
      const wait = lastEdit + io.editIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sent = await io.edit(sent, toMessage(message));
      return sent;
    },
  };
}

export function baseContext(fields: {
  who: Who;
  where: Where;
  horde: ChatHorde;
  settings: PlaceSettings;
  io: PlatformIO;
  account: () => Promise<HordeAccount>;
}): BaseContext {
  const { io } = fields;
  let account: Promise<HordeAccount> | undefined;
  return {
    who: fields.who,
    where: fields.where,
    horde: fields.horde,
    settings: fields.settings,
    account: () => {
      account ??= fields.account();
      return account;
    },
    reply: (message) => io.reply(toMessage(message)),
    ephemeral: (message) => io.reply(toMessage(message), { ephemeral: true }),
    progress: (first) => createProgress(io, first),
    edit: (sent, message) => io.edit(sent, toMessage(message)),
    delete: (sent) => io.delete(sent),
    state: {},
  };
}
