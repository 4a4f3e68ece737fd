/**
 * Discord's REST API under `/api/v10`, as much of it as a slash-command bot uses. Every call is logged
 * as `<METHOD> <route>` (the `DiscordRoute` names) before anything else, so a request answered with an
 * injected 429 or error shows up too. Interaction and webhook routes need no `Bot` token, as on Discord.
 */
import { type Context, Hono } from 'hono';
import type { CallLog } from '../fake-server.js';
import { DISCORD_ERRORS, errorReply, type Reply } from './errors.js';
import type { Interactions } from './interactions.js';
import {
  asRecord,
  createMessage,
  deleteMessage,
  editMessage,
  type RequestBody,
  readBody,
} from './messages.js';
import type { DiscordState } from './state.js';
import type { DiscordErrorReply, DiscordRoute, StoredCommand } from './types.js';

/** One-shot failures the test queued per route. */
export class Faults {
  readonly #queued = new Map<DiscordRoute, Reply[]>();

  /** The next call of `route` gets a 429 with `retry_after` and Discord's `X-RateLimit-*` headers. */
  rateLimitNext(route: DiscordRoute, retryAfterSeconds: number, options: { global?: boolean } = {}): void {
    const global = options.global ?? false;
    this.#push(route, {
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global },
      headers: {
        // Discord rounds this header up to whole seconds; the exact value keeps tests fast.
        'Retry-After': String(retryAfterSeconds),
        'X-RateLimit-Limit': '5',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': ((Date.now() + retryAfterSeconds * 1000) / 1000).toFixed(3),
        'X-RateLimit-Reset-After': String(retryAfterSeconds),
        'X-RateLimit-Bucket': `fake-${route.replace(/\W+/g, '-')}`,
        'X-RateLimit-Scope': global ? 'global' : 'user',
        ...(global ? { 'X-RateLimit-Global': 'true' } : {}),
      },
    });
  }

  /** The next call of `route` gets this error instead of its answer. */
  failNext(route: DiscordRoute, error: DiscordErrorReply): void {
    this.#push(route, errorReply(error));
  }

  take(route: DiscordRoute): Reply | undefined {
    return this.#queued.get(route)?.shift();
  }

  #push(route: DiscordRoute, reply: Reply): void {
    const queued = this.#queued.get(route) ?? [];
    queued.push(reply);
    this.#queued.set(route, queued);
  }
}

type Handler = (c: Context, body: RequestBody) => Reply | Promise<Reply>;

function toResponse(reply: Reply): Response {
  if (reply.status === 204) return new Response(null, { status: 204, headers: reply.headers ?? {} });
  return new Response(JSON.stringify(reply.body ?? {}), {
    status: reply.status,
    headers: { 'content-type': 'application/json', ...reply.headers },
  });
}

function logged(body: RequestBody): Record<string, unknown> {
  const fields = Array.isArray(body.payload) ? { items: body.payload } : { ...asRecord(body.payload) };
  return body.uploads.length > 0 ? { ...fields, files: body.uploads } : fields;
}

function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

export function createRestApi(
  state: DiscordState,
  interactions: Interactions,
  log: CallLog,
  faults: Faults,
): Hono {
  const api = new Hono();
  const param = (c: Context, name: string): string => c.req.param(name) ?? '';

  const on = (route: DiscordRoute, handler: Handler): void => {
    const [method = 'GET', path = '/'] = route.split(' ');
    const needsToken = !path.startsWith('/interactions/') && !path.startsWith('/webhooks/');
    api.on(method, path, async (c) => {
      const body = await readBody(c);
      log.record(route, logged(body));
      const token = state.options.token;
      const unauthorized =
        needsToken && token !== undefined && c.req.header('authorization') !== `Bot ${token}`;
      const reply =
        faults.take(route) ??
        (unauthorized ? errorReply(DISCORD_ERRORS.unauthorized) : await handler(c, body));
      return toResponse(reply);
    });
  };

  // --- gateway, bot user, application ---
  on('GET /gateway/bot', () =>
    ok({
      url: state.url.replace(/^http/, 'ws'),
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    }),
  );
  on('GET /users/@me', () =>
    ok({ ...state.apiUser(state.bot), verified: true, mfa_enabled: false, flags: 0 }),
  );
  on('POST /users/@me/channels', (_c, body) => {
    const recipientId = String(asRecord(body.payload).recipient_id ?? '');
    const user = state.user(recipientId) ?? { id: recipientId, username: `user-${recipientId}` };
    return ok(state.apiChannel(state.dmChannel(user)));
  });
  on('GET /users/:user', (c) => {
    const user = state.user(param(c, 'user'));
    return user ? ok(state.apiUser(user)) : errorReply(DISCORD_ERRORS.unknownUser);
  });
  on('GET /applications/@me', () =>
    ok({
      id: state.applicationId,
      name: state.bot.username,
      icon: null,
      description: '',
      bot_public: true,
      bot_require_code_grant: false,
      bot: state.apiUser(state.bot),
      verify_key: '0'.repeat(64),
      flags: 0,
      team: null,
      approximate_guild_count: state.guilds.size,
    }),
  );

  // --- application commands, global ('') and per guild ---
  const scope = (c: Context): string | undefined =>
    param(c, 'app') === state.applicationId ? (c.req.param('guild') ?? '') : undefined;
  const store = (guildId: string, input: unknown, existing?: StoredCommand): StoredCommand => ({
    description: '',
    default_member_permissions: null,
    nsfw: false,
    ...asRecord(input),
    id: existing?.id ?? state.snowflake(),
    application_id: state.applicationId,
    ...(guildId ? { guild_id: guildId } : {}),
    name: String(asRecord(input).name ?? ''),
    type: Number(asRecord(input).type ?? 1),
    version: state.snowflake(),
  });
  const listCommands: Handler = (c) => {
    const key = scope(c);
    return key === undefined
      ? errorReply(DISCORD_ERRORS.unknownApplication)
      : ok(state.commands.get(key) ?? []);
  };
  const putCommands: Handler = (c, body) => {
    const key = scope(c);
    if (key === undefined) return errorReply(DISCORD_ERRORS.unknownApplication);
    const before = state.commands.get(key) ?? [];
    const inputs = Array.isArray(body.payload) ? body.payload : [];
    const commands = inputs.map((input) =>
      store(
        key,
        input,
        before.find((command) => command.name === asRecord(input).name),
      ),
    );
    state.commands.set(key, commands);
    return ok(commands);
  };
  const postCommand: Handler = (c, body) => {
    const key = scope(c);
    if (key === undefined) return errorReply(DISCORD_ERRORS.unknownApplication);
    const commands = state.commands.get(key) ?? [];
    const index = commands.findIndex((command) => command.name === asRecord(body.payload).name);
    const command = store(key, body.payload, commands[index]);
    if (index === -1) commands.push(command);
    else commands[index] = command;
    state.commands.set(key, commands);
    return ok(command, index === -1 ? 201 : 200);
  };
  const deleteCommand: Handler = (c) => {
    const key = scope(c);
    const commands = key === undefined ? undefined : state.commands.get(key);
    const index = commands?.findIndex((command) => command.id === param(c, 'command')) ?? -1;
    if (!commands || index === -1) return errorReply(DISCORD_ERRORS.unknownCommand);
    commands.splice(index, 1);
    return { status: 204 };
  };
  on('GET /applications/:app/commands', listCommands);
  on('PUT /applications/:app/commands', putCommands);
  on('POST /applications/:app/commands', postCommand);
  on('DELETE /applications/:app/commands/:command', deleteCommand);
  on('GET /applications/:app/guilds/:guild/commands', listCommands);
  on('PUT /applications/:app/guilds/:guild/commands', putCommands);
  on('POST /applications/:app/guilds/:guild/commands', postCommand);
  on('DELETE /applications/:app/guilds/:guild/commands/:command', deleteCommand);

  // --- interactions and their webhook ---
  on('POST /interactions/:id/:token/callback', (c, body) =>
    interactions.callback(param(c, 'id'), param(c, 'token'), body, c.req.query('with_response') === 'true'),
  );
  on('POST /webhooks/:app/:token', (c, body) =>
    interactions.followup(param(c, 'app'), param(c, 'token'), body),
  );
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    on(`${method} /webhooks/:app/:token/messages/:message`, (c, body) =>
      interactions.webhookMessage(method, param(c, 'app'), param(c, 'token'), param(c, 'message'), body),
    );
  }

  // --- channels and messages ---
  const channelOf = (c: Context) => state.channels.get(param(c, 'channel'));
  const messageOf = (c: Context) => state.messages.get(param(c, 'channel'))?.get(param(c, 'message'));
  on('GET /channels/:channel', (c) => {
    const channel = channelOf(c);
    return channel ? ok(state.apiChannel(channel)) : errorReply(DISCORD_ERRORS.unknownChannel);
  });
  on('GET /channels/:channel/messages', (c) => {
    if (!channelOf(c)) return errorReply(DISCORD_ERRORS.unknownChannel);
    const limit = Number(c.req.query('limit') ?? 50);
    return ok([...state.channelMessages(param(c, 'channel')).values()].reverse().slice(0, limit));
  });
  on('POST /channels/:channel/messages', (c, body) => {
    const channel = channelOf(c);
    return channel ? ok(createMessage(state, channel.id, body)) : errorReply(DISCORD_ERRORS.unknownChannel);
  });
  on('GET /channels/:channel/messages/:message', (c) => {
    const message = messageOf(c);
    return message ? ok(message) : errorReply(DISCORD_ERRORS.unknownMessage);
  });
  on('PATCH /channels/:channel/messages/:message', (c, body) => {
    const message = messageOf(c);
    return message ? ok(editMessage(state, message, body)) : errorReply(DISCORD_ERRORS.unknownMessage);
  });
  on('DELETE /channels/:channel/messages/:message', (c) => {
    const message = messageOf(c);
    if (!message) return errorReply(DISCORD_ERRORS.unknownMessage);
    deleteMessage(state, message);
    return { status: 204 };
  });
  on('POST /channels/:channel/typing', (c) =>
    channelOf(c) ? { status: 204 } : errorReply(DISCORD_ERRORS.unknownChannel),
  );

  // --- guilds ---
  on('GET /guilds/:guild', (c) => {
    const guild = state.apiGuild(param(c, 'guild'), false);
    return guild ? ok(guild) : errorReply(DISCORD_ERRORS.unknownGuild);
  });
  on('GET /guilds/:guild/members/:user', (c) => {
    const guildId = param(c, 'guild');
    const user = state.guilds.get(guildId)?.members.get(param(c, 'user'))?.user;
    if (!state.guilds.has(guildId)) return errorReply(DISCORD_ERRORS.unknownGuild);
    return user ? ok(state.apiMember(guildId, user)) : errorReply(DISCORD_ERRORS.unknownMember);
  });

  return api;
}
