/**
 * A fake Discord on loopback for driving the real discord.js: REST under `/api/v10` and a minimal gateway
 * on the same port. Point a Client at it with `rest: { api: fake.apiUrl, retries: 0 }`; GET /gateway/bot
 * hands discord.js the gateway URL, so nothing else is needed. The test then plays the user
 * (`slashCommand`, `pressButton`, `autocomplete`) and reads what the bot left (`channelMessages`,
 * `original`, `log`). The parts live in `./discord/`.
 */
import { Hono } from 'hono';
import { FakeGateway } from './discord/gateway.js';
import { Interactions } from './discord/interactions.js';
import { createRestApi, Faults } from './discord/rest.js';
import { DiscordState } from './discord/state.js';
import type {
  AutocompleteChoice,
  AutocompleteInput,
  DiscordErrorReply,
  DiscordRoute,
  FakeDiscordOptions,
  FakeMessage,
  FakeUser,
  PressButtonInput,
  SlashCommandInput,
  StartedInteraction,
  StoredCommand,
} from './discord/types.js';
import { CallLog, listen, type UploadedFile } from './fake-server.js';

export { DISCORD_ERRORS } from './discord/errors.js';
export { DEFAULT_EVERYONE_PERMISSIONS } from './discord/state.js';
export type * from './discord/types.js';

export interface FakeDiscord {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `<url>/api`, for `rest: { api }` in discord.js. */
  readonly apiUrl: string;
  /** `ws://127.0.0.1:<port>`, what GET /gateway/bot returns. */
  readonly gatewayUrl: string;
  readonly applicationId: string;
  readonly botUser: FakeUser;
  /** REST calls as `<METHOD> <DiscordRoute>`; gateway traffic as `GATEWAY connect|IDENTIFY|HEARTBEAT|RESUME`. */
  readonly log: CallLog;
  /** A user runs a slash command (a DM when `guildId` is omitted). Waits up to 5 s for a bot on the gateway. */
  slashCommand(input: SlashCommandInput): Promise<StartedInteraction>;
  /** A user presses a button (or picks from a select menu) on a message the fake holds. */
  pressButton(input: PressButtonInput): Promise<StartedInteraction>;
  /** A user types into an autocomplete option; resolves with the bot's choices. */
  autocomplete(input: AutocompleteInput): Promise<AutocompleteChoice[]>;
  /** Sends any gateway dispatch to every identified bot; returns how many got it. */
  dispatch(event: string, data: unknown): number;
  /** Identified gateway sessions. */
  readonly gatewaySessions: number;
  /** The channel's messages in order, ephemeral ones included (see `flags`), deleted ones gone. */
  channelMessages(channelId: string): FakeMessage[];
  /** The interaction's current original response (for a button press: the pressed message until replaced). */
  original(interactionToken: string): FakeMessage | undefined;
  /** Followup messages the bot sent on the interaction's webhook, minus deleted ones. */
  followups(interactionToken: string): FakeMessage[];
  /** An uploaded attachment's bytes, by attachment id. */
  file(attachmentId: string): UploadedFile | undefined;
  /** Registered commands: global ones, or a guild's. */
  commands(guildId?: string): StoredCommand[];
  /** Every interaction token issued so far stops working: webhook calls get 401 `{ code: 50027 }`. */
  expireTokens(): void;
  /** The next call of `route` gets a 429 (discord.js waits `retryAfterSeconds` and retries by itself). */
  rateLimitNext(route: DiscordRoute, retryAfterSeconds: number, options?: { global?: boolean }): void;
  /** The next call of `route` fails with this error (see `DISCORD_ERRORS`). */
  failNext(route: DiscordRoute, error: DiscordErrorReply): void;
  /** Drops gateway connections (destroy the client first, or it reconnects) and stops the server. */
  close(): Promise<void>;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const log = new CallLog();
  const state = new DiscordState(options);
  const faults = new Faults();
  const gateway = new FakeGateway(state, log);
  const interactions = new Interactions(state, gateway);
  const app = new Hono();
  app.route('/api/v10', createRestApi(state, interactions, log, faults));
  app.get('/attachments/:id/:filename', (c) => {
    const file = state.files.get(c.req.param('id'));
    if (!file) return c.json({ message: '404: Not Found', code: 0 }, 404);
    const type = file.type || 'application/octet-stream';
    return new Response(new Uint8Array(file.bytes), { headers: { 'content-type': type } });
  });
  app.notFound((c) => {
    log.record(`UNHANDLED ${c.req.method} ${c.req.path}`, {});
    return c.json({ message: '404: Not Found', code: 0 }, 404);
  });

  const server = await listen(app);
  // Routes read the URL per request (gateway URL, attachment URLs); it exists only now.
  state.url = server.url;
  gateway.attach(server.server);

  return {
    url: server.url,
    apiUrl: `${server.url}/api`,
    gatewayUrl: server.url.replace(/^http/, 'ws'),
    applicationId: state.applicationId,
    botUser: state.bot,
    log,
    slashCommand: (input) => interactions.slashCommand(input),
    pressButton: (input) => interactions.pressButton(input),
    autocomplete: (input) => interactions.autocomplete(input),
    dispatch: (event, data) => gateway.dispatch(event, data),
    get gatewaySessions() {
      return gateway.sessions;
    },
    channelMessages: (channelId) => [...(state.messages.get(channelId)?.values() ?? [])],
    original: (token) => interactions.original(token),
    followups: (token) => interactions.followups(token),
    file: (attachmentId) => state.files.get(attachmentId),
    commands: (guildId) => state.commands.get(guildId ?? '') ?? [],
    expireTokens: () => interactions.expireAll(),
    rateLimitNext: (route, retryAfterSeconds, rateLimitOptions) =>
      faults.rateLimitNext(route, retryAfterSeconds, rateLimitOptions),
    failNext: (route, error) => faults.failNext(route, error),
    close: async () => {
      interactions.close();
      await gateway.close();
      await server.close();
    },
  };
}
