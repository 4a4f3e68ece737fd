/**
 * A fake Slack on loopback for driving the real @slack/bolt and @slack/web-api in tests: the Web API at
 * `${apiUrl}<method>` (give it to `clientOptions.slackApiUrl`), the external file upload flow,
 * `response_url`s, Socket Mode over `ws`, and helpers that send signed slash commands, button clicks and
 * events into an app. Each channel keeps the messages a user would see now.
 */
import { CallLog, listen } from './fake-server.js';
import { postToApp, signatureHeaders } from './slack/http-driver.js';
import { blockActionPayload, eventCallback, slashCommandPayload } from './slack/payloads.js';
import { FakeSocketMode } from './slack/socket-mode.js';
import type {
  AppAnswer,
  BlockActionInit,
  DriveOptions,
  FakeSlackChannelInit,
  FakeSlackFile,
  FakeSlackMessage,
  FakeSlackOptions,
  FakeSlackUserInit,
  ResponseUrlPost,
  SentInteraction,
  SlashCommandInit,
  SocketAck,
} from './slack/types.js';
import { createSlackWebApi } from './slack/web-api.js';
import { SlackWorkspace } from './slack/workspace.js';

export type * from './slack/types.js';

export interface FakeSlack {
  /** The fake's origin, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** For `clientOptions.slackApiUrl`: `${url}/api/`. */
  readonly apiUrl: string;
  /** Every Web API call, upload (`POST /upload/:file_id`), response_url post (`POST /response/:token`),
   * Socket Mode ack (`socket ack`) and rate-limited call (`429 <method>`), in order. */
  readonly log: CallLog;
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly botUserId: string;
  readonly teamId: string;

  /** The messages `channelId` shows now, oldest first (ephemeral ones included, marked). */
  channel(channelId: string): FakeSlackMessage[];
  /** What the app posted to the response_url with this token, in order. */
  responses(token: string): ResponseUrlPost[];
  /** A file with its uploaded bytes. */
  file(fileId: string): FakeSlackFile;
  addChannel(channelId: string, init?: FakeSlackChannelInit): void;
  addUser(userId: string, init?: FakeSlackUserInit): void;
  /** The next call of `method` gets HTTP 429, `Retry-After: retryAfterSeconds` and `{ ok: false, error: 'ratelimited' }`. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  /** The next call of `method` answers `{ ok: false, error }` (e.g. `'not_in_channel'`). */
  failNext(method: string, error: string): void;

  /** A signed, form-encoded slash command to `<appUrl>/slack/events`; the answer is Bolt's ack. */
  slashCommand(
    appUrl: string,
    init: SlashCommandInit,
    options?: DriveOptions,
  ): Promise<AppAnswer & SentInteraction>;
  /** A signed `payload=` form post of type `block_actions` for a message the channel shows. */
  blockAction(
    appUrl: string,
    init: BlockActionInit,
    options?: DriveOptions,
  ): Promise<AppAnswer & SentInteraction>;
  /** A signed JSON `event_callback`; an inner event (`{ type: 'app_mention', ... }`) is wrapped. */
  event(appUrl: string, event: Record<string, unknown>, options?: DriveOptions): Promise<AppAnswer>;

  /** Resolves once a Socket Mode app is connected (Bolt's `app.start()` already waits for that). */
  socketConnected(timeoutMs?: number): Promise<void>;
  socketSlashCommand(init: SlashCommandInit): Promise<SocketAck & SentInteraction>;
  socketBlockAction(init: BlockActionInit): Promise<SocketAck & SentInteraction>;
  socketEvent(event: Record<string, unknown>): Promise<SocketAck>;

  close(): Promise<void>;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const workspace = new SlackWorkspace(
    {
      botUserId: options.botUserId ?? 'U0BOT',
      botId: options.botId ?? 'B0BOT',
      teamId: options.teamId ?? 'T0TEAM',
      teamDomain: options.teamDomain ?? 'hordekit-test',
      appId: options.appId ?? 'A0APP',
      botToken: options.botToken ?? 'xoxb-fake-bot-token',
      appToken: options.appToken ?? 'xapp-fake-app-token',
      signingSecret: options.signingSecret ?? 'fake-signing-secret',
    },
    options.channels ?? { C0GENERAL: { name: 'general' } },
    options.users ?? { U0ALICE: { name: 'alice' } },
  );
  const { identity } = workspace;
  const log = new CallLog();
  const socketMode = new FakeSocketMode(identity.appId, log);
  const webApi = createSlackWebApi({
    workspace,
    log,
    socketModeUrl: () => socketMode.issueUrl(workspace.baseUrl),
  });
  const server = await listen(webApi.app);
  workspace.baseUrl = server.url;
  socketMode.attach(server.server);

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const signed = (body: string, driveOptions: DriveOptions = {}) =>
    signatureHeaders(identity.signingSecret, body, driveOptions.signature);

  return {
    url: server.url,
    apiUrl: `${server.url}/api/`,
    log,
    botToken: identity.botToken,
    appToken: identity.appToken,
    signingSecret: identity.signingSecret,
    botUserId: identity.botUserId,
    teamId: identity.teamId,
    channel: (channelId) => workspace.messages(channelId),
    responses: (token) => workspace.responses(token),
    file: (fileId) => workspace.file(fileId),
    addChannel: (channelId, init) => workspace.addChannel(channelId, init),
    addUser: (userId, init) => workspace.addUser(userId, init),
    rateLimitNext: webApi.rateLimitNext,
    failNext: webApi.failNext,

    async slashCommand(appUrl, init, driveOptions) {
      const { fields, sent } = slashCommandPayload(workspace, init);
      const body = form(fields);
      const answer = await postToApp(
        appUrl,
        body,
        'application/x-www-form-urlencoded',
        signed(body, driveOptions),
      );
      return { ...answer, ...sent };
    },
    async blockAction(appUrl, init, driveOptions) {
      const { payload, sent } = blockActionPayload(workspace, init);
      const body = form({ payload: JSON.stringify(payload) });
      const answer = await postToApp(
        appUrl,
        body,
        'application/x-www-form-urlencoded',
        signed(body, driveOptions),
      );
      return { ...answer, ...sent };
    },
    event(appUrl, event, driveOptions) {
      const body = JSON.stringify(eventCallback(workspace, event));
      return postToApp(appUrl, body, 'application/json', signed(body, driveOptions));
    },

    socketConnected: (timeoutMs) => socketMode.connected(timeoutMs),
    async socketSlashCommand(init) {
      const { fields, sent } = slashCommandPayload(workspace, init);
      return { ...(await socketMode.send('slash_commands', fields)), ...sent };
    },
    async socketBlockAction(init) {
      const { payload, sent } = blockActionPayload(workspace, init);
      return { ...(await socketMode.send('interactive', payload)), ...sent };
    },
    socketEvent: (event) => socketMode.send('events_api', eventCallback(workspace, event)),

    async close() {
      await socketMode.close();
      await server.close();
    },
  };
}
