/**
 * The Slack adapter: every command of a `ChatApp` as a slash command and its buttons as Block Kit buttons,
 * on a Bolt `App` — one the adapter creates (HTTP mode, where Bolt's receiver checks every request's
 * signature, or Socket Mode when an app-level token is given) or one that already exists (`bolt`), on which
 * the listeners are simply registered.
 *
 * A slash command is acknowledged at once, before anything slow (Slack gives 3 s); the person, the place
 * and the options are then worked out and the command dispatched in the background, its answers going out
 * through the Web API (`io.ts`). A button press goes the same way.
 */
import type { Server } from 'node:http';
import { App, type Logger, type LogLevel, type webApi } from '@slack/bolt';
import type { ChatApp } from '../framework/app.js';
import type { SentMessage } from '../framework/types.js';
import { actionOf, OUR_BLOCKS } from './blocks.js';
import { createSlackIO, type SlackMessageRef } from './io.js';
import { commandOptions, SlackPeople, slackWhere } from './people.js';

export interface SlackAdapterOptions {
  /** The chat app whose commands and buttons this adapter serves. */
  chat: ChatApp;
  /** The bot token (`xoxb-…`). Required unless `bolt` is given. */
  token?: string;
  /** The app's signing secret: HTTP mode, every request's signature checked. Required without `appToken`. */
  signingSecret?: string;
  /** An app-level token (`xapp-…`, `connections:write`): Socket Mode instead of HTTP. */
  appToken?: string;
  /** The Web API's base URL (`SLACK_API_URL`). @default 'https://slack.com/api/' */
  apiUrl?: string;
  /** An existing Bolt app to register on instead of creating one; the options above are then unused. */
  bolt?: App;
  /**
   * Options for the Web API client of the app the adapter creates (`apiUrl` wins over `slackApiUrl`).
   * @default { rejectRateLimitedCalls: true } — the adapter waits out a 429's Retry-After itself and retries once
   */
  clientOptions?: webApi.WebClientOptions;
  /** For the app the adapter creates. @default Bolt's console logger */
  logger?: Logger;
  /** For the app the adapter creates. @default Bolt's (INFO) */
  logLevel?: LogLevel;
  /** How long a person's name and admin flag (`users.info`) are kept. @default 300000 (5 minutes) */
  userCacheMs?: number;
  /** Shortest time between two edits of one message (Slack allows about one update a second). @default 1000 */
  editIntervalMs?: number;
  /** The longest `Retry-After` a call waits out before failing. @default 30000 */
  maxRetryAfterMs?: number;
}

export interface SlackStartOptions {
  /** HTTP mode: the port Bolt's receiver listens on (0: any free one). @default 3000 */
  port?: number;
  /** HTTP mode: the address to listen on. @default all interfaces */
  host?: string;
}

export interface SlackAdapter {
  /** The Bolt app the listeners are on (`bolt`, or the one the adapter created). */
  readonly app: App;
  /** Starts the app: listens for HTTP requests (the port it got is returned) or connects in Socket Mode. */
  start(options?: SlackStartOptions): Promise<{ port?: number }>;
  stop(): Promise<void>;
  /** Resolves once every command and button press received so far has been answered (tests, shutdown). */
  idle(): Promise<void>;
}

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { chat } = options;
  const socketMode = !options.bolt && options.appToken !== undefined;
  const bolt = options.bolt ?? createBolt(options);
  const people = new SlackPeople(options.userCacheMs ?? 5 * 60_000);
  const running = new Set<Promise<void>>();

  /** Work done after the ack: never awaited by the listener, so the ack never waits for it. */
  const inBackground = (work: () => Promise<void>) => {
    const task: Promise<void> = work()
      .catch((error: unknown) => bolt.logger.error('hordekit: a Slack invocation failed', error))
      .finally(() => running.delete(task));
    running.add(task);
  };
  const io = (client: webApi.WebClient, channel: string, user: string, responseUrl: string) =>
    createSlackIO({
      client,
      channel,
      user,
      responseUrl,
      editIntervalMs: options.editIntervalMs ?? 1000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
      logger: bolt.logger,
    });

  for (const command of chat.commands) {
    bolt.command(`/${command.name}`, async ({ ack, command: slash, client }) => {
      await ack();
      inBackground(async () => {
        const platformIO = io(client, slash.channel_id, slash.user_id, slash.response_url);
        const parsed = commandOptions(command, slash.text ?? '');
        if (!parsed.ok) {
          await platformIO.reply({ text: parsed.problem }, { ephemeral: true });
          return;
        }
        const who = await people.who(client, slash.team_id, slash.user_id, slash.user_name);
        const where = slackWhere(slash.team_id, slash.channel_id);
        await chat.dispatchCommand(
          { command: command.name, options: parsed.options, who, where },
          platformIO,
        );
      });
    });
  }

  bolt.action({ type: 'block_actions', block_id: OUR_BLOCKS }, async ({ ack, body, action, client }) => {
    await ack();
    if (action.type !== 'button') return;
    inBackground(async () => {
      const container = body.container as {
        channel_id?: string;
        message_ts?: string;
        is_ephemeral?: boolean;
      };
      const channel = body.channel?.id ?? container.channel_id ?? '';
      const ts = container.message_ts ?? body.message?.ts ?? '';
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      const ref: SlackMessageRef = { channel, ts };
      if (container.is_ephemeral) ref.ephemeral = { user: body.user.id, responseUrl: body.response_url };
      const message: SentMessage = { platform: 'slack', id: ts, ref };
      const who = await people.who(client, teamId, body.user.id, body.user.name ?? body.user.username);
      await chat.dispatchButton(
        {
          action: actionOf(action.action_id),
          payload: action.value ?? '',
          who,
          where: slackWhere(teamId, channel),
          message,
        },
        io(client, channel, body.user.id, body.response_url),
      );
    });
  });

  return {
    app: bolt,
    async start(startOptions = {}) {
      if (socketMode) {
        await bolt.start();
        return {};
      }
      const listening = (await bolt.start({
        port: startOptions.port ?? 3000,
        ...(startOptions.host !== undefined ? { host: startOptions.host } : {}),
      })) as Server | undefined;
      const address = listening?.address?.();
      return typeof address === 'object' && address !== null ? { port: address.port } : {};
    },
    async stop() {
      await bolt.stop();
      people.clear();
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

function createBolt(options: SlackAdapterOptions): App {
  const { token, appToken, signingSecret } = options;
  if (!token) {
    throw new Error('createSlackAdapter: give `token` (the bot token), or an existing Bolt app as `bolt`');
  }
  if (!appToken && !signingSecret) {
    throw new Error('createSlackAdapter: give `signingSecret` (HTTP mode) or `appToken` (Socket Mode)');
  }
  const clientOptions: webApi.WebClientOptions = {
    rejectRateLimitedCalls: true,
    ...options.clientOptions,
    ...(options.apiUrl !== undefined ? { slackApiUrl: options.apiUrl } : {}),
  };
  return new App({
    token,
    clientOptions,
    ...(appToken ? { appToken, socketMode: true } : { signingSecret }),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
}
