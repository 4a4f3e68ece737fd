/**
 * The chat app's commands as Discord slash commands, registered over REST: to one guild (instant
 * updates, for development and private hordes) or globally. Option types follow the framework's specs;
 * required options come first, as Discord demands.
 */
import {
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  PermissionFlagsBits,
  type REST,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  Routes,
} from 'discord.js';
import type { AnyCommand, OptionSpec } from '../framework/define.js';

/** Discord's most options per command, and most choices per option. */
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;

export function toSlashCommand(command: AnyCommand): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const options = Object.entries(command.options ?? {})
    .map(([name, spec]) => toOption(name, spec))
    // A stable sort: required first, otherwise in the plugin's order.
    .sort((a, b) => Number(b.required === true) - Number(a.required === true))
    .slice(0, MAX_OPTIONS);
  return {
    type: ApplicationCommandType.ChatInput,
    name: command.name,
    description: command.description,
    options,
    // Hidden from members who could not run it anyway; guild admins can change this in Discord.
    ...(command.adminOnly ? { default_member_permissions: PermissionFlagsBits.ManageGuild.toString() } : {}),
  };
}

function toOption(name: string, spec: OptionSpec): APIApplicationCommandOption {
  const base = { name, description: spec.description, required: spec.required === true };
  switch (spec.type) {
    case 'string':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        ...(spec.maxLength !== undefined ? { max_length: spec.maxLength } : {}),
        ...(spec.autocomplete ? { autocomplete: true } : {}),
      };
    case 'integer':
      return {
        ...base,
        type: ApplicationCommandOptionType.Integer,
        ...(spec.min !== undefined ? { min_value: spec.min } : {}),
        ...(spec.max !== undefined ? { max_value: spec.max } : {}),
      };
    case 'choice':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        choices: spec.choices
          .slice(0, MAX_CHOICES)
          .map((choice) => ({ name: choice.name.slice(0, 100), value: choice.value })),
      };
    case 'user':
      return { ...base, type: ApplicationCommandOptionType.User };
    case 'boolean':
      return { ...base, type: ApplicationCommandOptionType.Boolean };
  }
}

export interface RegisterCommandsOptions {
  rest: REST;
  applicationId: string;
  /** Register to this guild only; globally when absent. */
  guildId?: string;
  /**
   * `true`: replace the application's commands in that scope with ours (one bulk PUT, which also drops
   * commands no longer defined). `false`: create or update ours one by one and leave others alone — for a
   * bot that has commands of its own.
   */
  overwrite: boolean;
}

export async function registerCommands(commands: AnyCommand[], options: RegisterCommandsOptions) {
  const { rest, applicationId, guildId } = options;
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  const body = commands.map(toSlashCommand);
  if (options.overwrite) {
    await rest.put(route, { body });
    return;
  }
  // Discord treats a POST with an existing name as an update of that command.
  for (const command of body) await rest.post(route, { body: command });
}
