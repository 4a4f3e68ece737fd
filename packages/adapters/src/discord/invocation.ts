/**
 * Who and where an interaction comes from, in the framework's words: the user (admin when they may
 * manage the guild), the place (the guild, or `dm:<user>` for a DM), and whether Discord marks the
 * channel age-restricted (threads inherit their parent's flag). Also a slash command's option values.
 */
import {
  ApplicationCommandOptionType,
  type BaseInteraction,
  type Channel,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  PermissionFlagsBits,
} from 'discord.js';
import type { Where, Who } from '../framework/types.js';

export function whoOf(interaction: BaseInteraction): Who {
  const { user, member, memberPermissions } = interaction;
  let displayName = user.displayName;
  if (member && 'displayName' in member) displayName = member.displayName;
  else if (member?.nick) displayName = member.nick;
  return {
    platform: 'discord',
    id: user.id,
    displayName,
    // In DMs there are no member permissions: nobody is an admin there.
    isAdmin:
      memberPermissions?.any([PermissionFlagsBits.Administrator, PermissionFlagsBits.ManageGuild]) ?? false,
  };
}

/**
 * `fetchChannel: false` reads only the cache (autocomplete must answer fast and needs no NSFW flag);
 * otherwise an uncached channel is fetched, because the age-restriction decides what may be drawn.
 */
export async function whereOf(
  interaction: BaseInteraction,
  options: { fetchChannel?: boolean } = {},
): Promise<Where> {
  const channelId = interaction.channelId ?? '';
  if (!interaction.inGuild()) {
    return {
      platform: 'discord',
      placeId: `dm:${interaction.user.id}`,
      channelId,
      platformAdult: false,
      isPrivate: true,
    };
  }
  return {
    platform: 'discord',
    placeId: interaction.guildId,
    channelId,
    platformAdult: await ageRestricted(interaction, options.fetchChannel ?? true),
    isPrivate: false,
  };
}

async function ageRestricted(interaction: BaseInteraction, fetch: boolean): Promise<boolean> {
  const { client } = interaction;
  const find = async (id: string | null): Promise<Channel | null> => {
    if (!id) return null;
    const cached = client.channels.cache.get(id);
    if (cached || !fetch) return cached ?? null;
    // No access to the channel: treat it as not age-restricted, the safe side.
    return client.channels.fetch(id).catch(() => null);
  };
  let channel = interaction.channel ?? (await find(interaction.channelId));
  if (channel?.isThread()) channel = channel.parent ?? (await find(channel.parentId));
  return channel !== null && 'nsfw' in channel && channel.nsfw === true;
}

/** Option values as the framework expects them: strings, numbers, booleans, and user ids for users. */
export function optionsOf(interaction: ChatInputCommandInteraction): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const collect = (options: readonly CommandInteractionOption[]) => {
    for (const option of options) {
      if (
        option.type === ApplicationCommandOptionType.Subcommand ||
        option.type === ApplicationCommandOptionType.SubcommandGroup
      ) {
        collect(option.options ?? []);
        continue;
      }
      // For a user option `value` is the user's id (`option.user` is only there when Discord resolved it).
      values[option.name] = option.value;
    }
  };
  collect(interaction.options.data);
  return values;
}
