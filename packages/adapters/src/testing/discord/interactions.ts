/**
 * Interactions as Discord runs them: the test starts one (a slash command, a button press, an
 * autocomplete), the fake dispatches INTERACTION_CREATE, and the bot answers on the callback route and
 * then through the interaction's webhook (`@original`, followups) until the token expires.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DISCORD_ERRORS, errorReply, type Reply } from './errors.js';
import type { FakeGateway } from './gateway.js';
import { asRecord, createMessage, deleteMessage, editMessage, type RequestBody } from './messages.js';
import type { ChannelModel, DiscordState } from './state.js';
import type {
  Acknowledgement,
  AutocompleteChoice,
  AutocompleteInput,
  CommandOption,
  FakeMessage,
  FakeUser,
  PressButtonInput,
  SlashCommandInput,
  StartedInteraction,
} from './types.js';

const TYPE = { command: 2, component: 3, autocomplete: 4 } as const;
const FLAG_EPHEMERAL = 64;
const FLAG_LOADING = 128;
/** How long `slashCommand` & co. wait for a bot to be on the gateway. */
const SESSION_WAIT_MS = 5_000;

interface InteractionRecord {
  id: string;
  token: string;
  type: number;
  channelId: string;
  user: FakeUser;
  commandName?: string;
  createdAt: number;
  dispatchedAt: number;
  expired: boolean;
  timedOut: boolean;
  callbackType: number | null;
  /** The message `@original` means: the response, or for components the message pressed until replaced. */
  originalId: string | null;
  followupIds: string[];
  timer: NodeJS.Timeout;
  settle: (ack: Acknowledgement) => void;
}

interface Where {
  guildId?: string;
  channelId?: string;
  user: FakeUser;
  locale?: string;
  permissions?: string;
}

export class Interactions {
  readonly #state: DiscordState;
  readonly #gateway: FakeGateway;
  readonly #byId = new Map<string, InteractionRecord>();
  readonly #byToken = new Map<string, InteractionRecord>();

  constructor(state: DiscordState, gateway: FakeGateway) {
    this.#state = state;
    this.#gateway = gateway;
  }

  async slashCommand(input: SlashCommandInput): Promise<StartedInteraction> {
    const data = this.#commandData(input.name, input.guildId, input.options ?? []);
    return this.#start(TYPE.command, input, { data }, input.name);
  }

  async pressButton(input: PressButtonInput): Promise<StartedInteraction> {
    const id = typeof input.message === 'string' ? input.message : input.message.id;
    const message = this.#state.findMessage(id);
    if (!message) throw new Error(`pressButton: no message ${id} on the fake`);
    const channel = this.#state.channels.get(message.channel_id);
    const where = { ...input, guildId: channel?.guildId, channelId: message.channel_id };
    const data = {
      custom_id: input.custom_id,
      component_type: input.component_type ?? 2,
      ...(input.values ? { values: input.values } : {}),
    };
    return this.#start(
      TYPE.component,
      where,
      { data, message: structuredClone(message) },
      undefined,
      message.id,
    );
  }

  /** Resolves with the choices the bot answered (callback type 8). */
  async autocomplete(input: AutocompleteInput): Promise<AutocompleteChoice[]> {
    const focused: CommandOption = { type: 3, ...input.focused, focused: true };
    const data = this.#commandData(input.name, input.guildId, [...(input.options ?? []), focused]);
    const { acknowledged } = await this.#start(TYPE.autocomplete, input, { data }, input.name);
    const ack = await acknowledged;
    return Array.isArray(ack.data.choices) ? (ack.data.choices as AutocompleteChoice[]) : [];
  }

  original(token: string): FakeMessage | undefined {
    const originalId = this.#byToken.get(token)?.originalId;
    return originalId ? this.#state.findMessage(originalId) : undefined;
  }

  followups(token: string): FakeMessage[] {
    const record = this.#byToken.get(token);
    return (record?.followupIds ?? []).flatMap((id) => this.#state.findMessage(id) ?? []);
  }

  /** Every token issued so far stops working for webhook calls (401, code 50027). */
  expireAll(): void {
    for (const record of this.#byId.values()) record.expired = true;
  }

  close(): void {
    for (const record of this.#byId.values()) clearTimeout(record.timer);
  }

  /** `POST /interactions/:id/:token/callback` */
  callback(id: string, token: string, body: RequestBody, withResponse: boolean): Reply {
    const record = this.#byId.get(id);
    if (!record || record.token !== token || record.timedOut)
      return errorReply(DISCORD_ERRORS.unknownInteraction);
    if (record.callbackType !== null) return errorReply(DISCORD_ERRORS.alreadyAcknowledged);
    const payload = asRecord(body.payload);
    const type = Number(payload.type);
    const data = asRecord(payload.data);
    const isComponent = record.type === TYPE.component;
    let message: FakeMessage | undefined;
    switch (type) {
      case 4:
      case 5:
        message = createMessage(
          this.#state,
          record.channelId,
          type === 4
            ? { payload: data, uploads: body.uploads }
            : { payload: { flags: Number(data.flags ?? 0) & FLAG_EPHEMERAL }, uploads: [] },
          {
            type: record.type === TYPE.command ? 20 : 0,
            flags: type === 5 ? FLAG_LOADING : 0,
            interaction: { id: record.id, type: record.type, user: record.user, name: record.commandName },
          },
        );
        record.originalId = message.id;
        break;
      case 6:
      case 7: {
        if (!isComponent) return errorReply(DISCORD_ERRORS.invalidFormBody);
        const source = record.originalId ? this.#state.findMessage(record.originalId) : undefined;
        if (!source) return errorReply(DISCORD_ERRORS.unknownMessage);
        message =
          type === 7 ? editMessage(this.#state, source, { payload: data, uploads: body.uploads }) : source;
        break;
      }
      case 8:
        if (record.type !== TYPE.autocomplete) return errorReply(DISCORD_ERRORS.invalidFormBody);
        break;
      case 9:
        if (record.type === TYPE.autocomplete) return errorReply(DISCORD_ERRORS.invalidFormBody);
        break;
      default:
        return errorReply(DISCORD_ERRORS.invalidFormBody);
    }
    record.callbackType = type;
    clearTimeout(record.timer);
    record.settle({ type, ms: performance.now() - record.dispatchedAt, data });
    if (!withResponse) return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: record.id,
          type: record.type,
          ...(message
            ? {
                response_message_id: message.id,
                response_message_loading: (message.flags & FLAG_LOADING) !== 0,
                response_message_ephemeral: (message.flags & FLAG_EPHEMERAL) !== 0,
              }
            : {}),
        },
        resource: { type, ...(message ? { message } : {}) },
      },
    };
  }

  /** `POST /webhooks/:app/:token`: a followup; the first one after a deferral replaces the "thinking" message. */
  followup(app: string, token: string, body: RequestBody): Reply {
    const record = this.#webhook(app, token);
    if ('status' in record) return record;
    if (record.callbackType === null) return errorReply(DISCORD_ERRORS.unknownWebhook);
    const original = record.originalId ? this.#state.findMessage(record.originalId) : undefined;
    if (original && (original.flags & FLAG_LOADING) !== 0) {
      return { status: 200, body: editMessage(this.#state, original, body) };
    }
    const message = createMessage(this.#state, record.channelId, body, {
      interaction: { id: record.id, type: record.type, user: record.user, name: record.commandName },
    });
    record.followupIds.push(message.id);
    return { status: 200, body: message };
  }

  /** GET, PATCH and DELETE `/webhooks/:app/:token/messages/:message` (`@original` or a followup id). */
  webhookMessage(
    method: 'GET' | 'PATCH' | 'DELETE',
    app: string,
    token: string,
    messageId: string,
    body: RequestBody,
  ): Reply {
    const record = this.#webhook(app, token);
    if ('status' in record) return record;
    const id = messageId === '@original' ? record.originalId : messageId;
    const message =
      id && (id === record.originalId || record.followupIds.includes(id))
        ? this.#state.findMessage(id)
        : undefined;
    if (!message) return errorReply(DISCORD_ERRORS.unknownMessage);
    if (method === 'GET') return { status: 200, body: message };
    if (method === 'PATCH') return { status: 200, body: editMessage(this.#state, message, body) };
    deleteMessage(this.#state, message);
    return { status: 204 };
  }

  #webhook(app: string, token: string): InteractionRecord | Reply {
    const record = this.#byToken.get(token);
    if (!record || app !== this.#state.applicationId) return errorReply(DISCORD_ERRORS.invalidWebhookToken);
    const expired = record.expired || Date.now() - record.createdAt > this.#state.options.tokenLifetimeMs;
    return expired ? errorReply(DISCORD_ERRORS.invalidWebhookToken) : record;
  }

  #commandData(name: string, guildId: string | undefined, options: CommandOption[]): Record<string, unknown> {
    const guildCommand = guildId
      ? this.#state.commands.get(guildId)?.find((command) => command.name === name)
      : undefined;
    const command = guildCommand ?? this.#state.commands.get('')?.find((entry) => entry.name === name);
    return {
      id: command?.id ?? this.#state.snowflake(),
      name,
      type: 1,
      ...(options.length > 0 ? { options } : {}),
      ...(guildCommand && guildId ? { guild_id: guildId } : {}),
    };
  }

  async #start(
    type: number,
    where: Where,
    fields: Record<string, unknown>,
    commandName?: string,
    sourceMessageId?: string,
  ): Promise<StartedInteraction> {
    const { payload, channel } = this.#context(where);
    await this.#gateway.waitForSession(SESSION_WAIT_MS);
    const state = this.#state;
    const id = state.snowflake();
    const token = `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`;
    let settle!: (ack: Acknowledgement) => void;
    let fail!: (error: Error) => void;
    const acknowledged = new Promise<Acknowledgement>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    // A test that only looks at the fake's state need not await this.
    acknowledged.catch(() => {});
    const deadline = state.options.callbackDeadlineMs;
    const record: InteractionRecord = {
      id,
      token,
      type,
      channelId: channel.id,
      user: where.user,
      ...(commandName ? { commandName } : {}),
      createdAt: Date.now(),
      dispatchedAt: 0,
      expired: false,
      timedOut: false,
      callbackType: null,
      originalId: sourceMessageId ?? null,
      followupIds: [],
      timer: setTimeout(() => {
        record.timedOut = true;
        fail(new Error(`interaction ${id} was not acknowledged within ${deadline} ms`));
      }, deadline).unref(),
      settle,
    };
    this.#byId.set(id, record);
    this.#byToken.set(token, record);
    record.dispatchedAt = performance.now();
    this.#gateway.dispatch('INTERACTION_CREATE', {
      id,
      application_id: state.applicationId,
      type,
      token,
      version: 1,
      ...payload,
      ...fields,
    });
    return { interaction: { id, token }, acknowledged };
  }

  /** Who and where: `member` and a guild channel, or `user` and a DM channel. */
  #context(where: Where): { payload: Record<string, unknown>; channel: ChannelModel } {
    const state = this.#state;
    const common = {
      locale: where.locale ?? 'en-US',
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
    };
    if (!where.guildId) {
      const channel = state.dmChannel(where.user, where.channelId);
      return {
        channel,
        payload: {
          ...common,
          channel_id: channel.id,
          channel: state.apiChannel(channel),
          user: state.apiUser(where.user),
          app_permissions: state.botPermissions.toString(),
          context: 1,
          authorizing_integration_owners: { '0': '0' },
        },
      };
    }
    const guild = state.guilds.get(where.guildId);
    if (!guild)
      throw new Error(`unknown guild ${where.guildId}: configure it in startFakeDiscord({ guilds })`);
    const channelId = where.channelId ?? guild.channelIds[0];
    const channel = channelId ? state.channels.get(channelId) : undefined;
    if (!channel || channel.guildId !== guild.id)
      throw new Error(`no channel ${channelId} in guild ${guild.id}`);
    const permissions = where.permissions ?? state.memberPermissions(guild.id, where.user.id).toString();
    return {
      channel,
      payload: {
        ...common,
        guild_id: guild.id,
        guild_locale: 'en-US',
        guild: { id: guild.id, locale: 'en-US', features: [] },
        channel_id: channel.id,
        channel: { ...state.apiChannel(channel), permissions },
        member: state.apiMember(guild.id, where.user, permissions),
        app_permissions: state.memberPermissions(guild.id, state.bot.id).toString(),
        context: 0,
        authorizing_integration_owners: { '0': guild.id },
      },
    };
  }
}
