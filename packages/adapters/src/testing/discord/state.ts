/**
 * The fake Discord's world: the bot, its guilds with their channels, roles and members, DM channels,
 * messages per channel, uploaded files and registered commands. It also builds the JSON Discord sends
 * for each of them (users, members, channels, guilds), so REST and the gateway agree.
 */
import type { UploadedFile } from '../fake-server.js';
import type {
  ApiUser,
  FakeDiscordOptions,
  FakeGuildInit,
  FakeMessage,
  FakeUser,
  StoredCommand,
} from './types.js';

/**
 * Discord's default @everyone permissions: create invite, add reactions, view channel, send messages,
 * embed links, attach files, read history, external emojis, connect, speak, change nickname, use commands.
 */
export const DEFAULT_EVERYONE_PERMISSIONS = (
  (1n << 0n) |
  (1n << 6n) |
  (1n << 10n) |
  (1n << 11n) |
  (1n << 14n) |
  (1n << 15n) |
  (1n << 16n) |
  (1n << 18n) |
  (1n << 20n) |
  (1n << 21n) |
  (1n << 26n) |
  (1n << 31n)
).toString();

const DISCORD_EPOCH = 1_420_070_400_000n;

export interface ChannelModel {
  id: string;
  type: 0 | 1;
  name: string;
  nsfw: boolean;
  guildId?: string;
  position: number;
  /** DM channels only. */
  recipient?: FakeUser;
}

interface MemberModel {
  user: FakeUser;
  roleIds: string[];
  permissions: bigint;
  bot?: boolean;
}

interface GuildModel {
  id: string;
  name: string;
  ownerId: string;
  roles: Record<string, unknown>[];
  channelIds: string[];
  members: Map<string, MemberModel>;
  everyone: bigint;
}

export class DiscordState {
  readonly applicationId: string;
  readonly bot: FakeUser;
  readonly botPermissions: bigint;
  readonly options: Required<
    Pick<FakeDiscordOptions, 'tokenLifetimeMs' | 'callbackDeadlineMs' | 'heartbeatIntervalMs'>
  > &
    Pick<FakeDiscordOptions, 'token'>;
  /** `http://127.0.0.1:<port>`, set once the server listens. */
  url = '';
  readonly guilds = new Map<string, GuildModel>();
  readonly channels = new Map<string, ChannelModel>();
  readonly messages = new Map<string, Map<string, FakeMessage>>();
  readonly files = new Map<string, UploadedFile>();
  /** Keyed by guild id, or '' for global commands. */
  readonly commands = new Map<string, StoredCommand[]>();
  readonly startedAt = new Date().toISOString();
  #increment = 0n;

  constructor(options: FakeDiscordOptions) {
    this.applicationId = options.applicationId ?? '100000000000000001';
    this.bot = {
      id: options.botUserId ?? this.applicationId,
      username: options.botUsername ?? 'hordekit-bot',
    };
    this.botPermissions = BigInt(options.botPermissions ?? DEFAULT_EVERYONE_PERMISSIONS);
    this.options = {
      token: options.token,
      tokenLifetimeMs: options.tokenLifetimeMs ?? 15 * 60_000,
      callbackDeadlineMs: options.callbackDeadlineMs ?? 3_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    };
    for (const guild of options.guilds ?? []) this.#addGuild(guild);
  }

  /** A real-looking snowflake (discord.js reads creation times from them). */
  snowflake(): string {
    this.#increment = (this.#increment + 1n) & 0xfffn;
    return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | this.#increment).toString();
  }

  #addGuild(init: FakeGuildInit): void {
    const everyone = BigInt(DEFAULT_EVERYONE_PERMISSIONS);
    const guild: GuildModel = {
      id: init.id,
      name: init.name ?? `guild ${init.id}`,
      // Nobody in particular owns it: discord.js grants an owner every permission.
      ownerId: this.snowflake(),
      roles: [role(init.id, '@everyone', everyone, 0)],
      channelIds: [],
      members: new Map(),
      everyone,
    };
    const botRole = this.snowflake();
    guild.roles.push(role(botRole, this.bot.username, this.botPermissions, 1));
    guild.members.set(this.bot.id, {
      user: this.bot,
      roleIds: [botRole],
      permissions: this.botPermissions,
      bot: true,
    });
    for (const member of init.members ?? []) {
      const roleIds: string[] = [];
      let permissions = 0n;
      if (member.permissions !== undefined) {
        const roleId = this.snowflake();
        permissions = BigInt(member.permissions);
        guild.roles.push(role(roleId, `perms of ${member.username}`, permissions, guild.roles.length));
        roleIds.push(roleId);
      }
      guild.members.set(member.id, {
        user: { id: member.id, username: member.username },
        roleIds,
        permissions,
      });
    }
    init.channels.forEach((channel, position) => {
      guild.channelIds.push(channel.id);
      this.channels.set(channel.id, {
        id: channel.id,
        type: 0,
        name: channel.name ?? `channel-${channel.id}`,
        nsfw: channel.nsfw ?? false,
        guildId: init.id,
        position,
      });
    });
    this.guilds.set(init.id, guild);
  }

  /** The user's DM channel, created on first use (with `channelId` when given). */
  dmChannel(user: FakeUser, channelId?: string): ChannelModel {
    const existing = [...this.channels.values()].find(
      (channel) =>
        channel.type === 1 && channel.recipient?.id === user.id && (!channelId || channel.id === channelId),
    );
    if (existing) return existing;
    const channel: ChannelModel = {
      id: channelId ?? this.snowflake(),
      type: 1,
      name: '',
      nsfw: false,
      position: 0,
      recipient: user,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Known users: the bot and every configured member. */
  user(id: string): FakeUser | undefined {
    if (id === this.bot.id) return this.bot;
    for (const guild of this.guilds.values()) {
      const member = guild.members.get(id);
      if (member) return member.user;
    }
    return undefined;
  }

  channelMessages(channelId: string): Map<string, FakeMessage> {
    let messages = this.messages.get(channelId);
    if (!messages) {
      messages = new Map();
      this.messages.set(channelId, messages);
    }
    return messages;
  }

  findMessage(messageId: string): FakeMessage | undefined {
    for (const messages of this.messages.values()) {
      const message = messages.get(messageId);
      if (message) return message;
    }
    return undefined;
  }

  // --- JSON as Discord sends it ---

  apiUser(user: FakeUser): ApiUser {
    return {
      id: user.id,
      username: user.username,
      discriminator: '0',
      global_name: user.id === this.bot.id ? null : user.username,
      avatar: null,
      ...(user.id === this.bot.id ? { bot: true } : {}),
      public_flags: 0,
    };
  }

  /** The member's permissions in the guild: @everyone's plus their role's (Discord computes no overwrites here). */
  memberPermissions(guildId: string, userId: string): bigint {
    const guild = this.guilds.get(guildId);
    if (!guild) return 0n;
    return guild.everyone | (guild.members.get(userId)?.permissions ?? 0n);
  }

  apiMember(guildId: string, user: FakeUser, permissions?: string): Record<string, unknown> {
    const member = this.guilds.get(guildId)?.members.get(user.id);
    return {
      user: this.apiUser(member?.user ?? user),
      nick: null,
      avatar: null,
      banner: null,
      roles: member?.roleIds ?? [],
      joined_at: this.startedAt,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
      ...(permissions === undefined ? {} : { permissions }),
    };
  }

  apiChannel(channel: ChannelModel): Record<string, unknown> {
    if (channel.type === 1) {
      return {
        id: channel.id,
        type: 1,
        last_message_id: null,
        flags: 0,
        recipients: channel.recipient ? [this.apiUser(channel.recipient)] : [],
      };
    }
    return {
      id: channel.id,
      type: 0,
      guild_id: channel.guildId,
      name: channel.name,
      position: channel.position,
      permission_overwrites: [],
      nsfw: channel.nsfw,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      parent_id: null,
      flags: 0,
    };
  }

  apiGuild(guildId: string, full: boolean): Record<string, unknown> | undefined {
    const guild = this.guilds.get(guildId);
    if (!guild) return undefined;
    const base = {
      id: guild.id,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      features: [],
      roles: guild.roles,
      emojis: [],
      stickers: [],
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      max_members: 500_000,
    };
    if (!full) return base;
    return {
      ...base,
      joined_at: this.startedAt,
      large: false,
      unavailable: false,
      member_count: guild.members.size,
      members: [...guild.members.values()].map((member) => this.apiMember(guild.id, member.user)),
      channels: guild.channelIds.map((id) => this.apiChannel(this.channels.get(id)!)),
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }
}

function role(id: string, name: string, permissions: bigint, position: number): Record<string, unknown> {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
  };
}
