/**
 * How plugins are written: `defineCommand` (a name, a description, typed options, a handler) and
 * `definePlugin` (commands, button actions and middleware under one name). Option values reach the handler
 * typed and validated; adapters turn the same definitions into Discord slash commands, Telegram commands
 * and Slack slash commands.
 */

import type { ButtonContext, CommandContext, Middleware } from './context.js';
import type { Choice } from './types.js';

interface OptionBase {
  description: string;
  required?: boolean;
}

export type OptionSpec =
  | (OptionBase & {
      type: 'string';
      maxLength?: number;
      /** Suggestions while typing (Discord autocomplete; listed in help elsewhere). */
      autocomplete?: (typed: string, context: AutocompleteContext) => Promise<Choice[]>;
    })
  | (OptionBase & { type: 'integer'; min?: number; max?: number })
  | (OptionBase & { type: 'choice'; choices: readonly Choice[] })
  | (OptionBase & { type: 'user' })
  | (OptionBase & { type: 'boolean' });

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S extends { type: 'integer' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : string;

/** The handler's view of the options: required ones always present. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { required: true } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

export interface AutocompleteContext {
  horde: import('./types.js').ChatHorde;
}

export interface CommandDefinition<O extends OptionSpecs = OptionSpecs> {
  /** Lower-case letters, digits, `_` and `-`, at most 32 characters (Discord's and Slack's rule). */
  name: string;
  /** One line, at most 100 characters (Discord's limit). */
  description: string;
  options?: O;
  /** Only administrators of the place may run it. */
  adminOnly?: boolean;
  /**
   * It answers only the person who ran it (a balance, a list): adapters acknowledge it privately where the
   * platform can (Discord's ephemeral deferral), so nothing shows in the channel.
   */
  private?: boolean;
  /** It sends work to the horde: the cooldown and the concurrent-request cap apply. */
  limited?: boolean;
  /** The option holding a prompt, for banned words and the NSFW gate. */
  promptOption?: string;
  handler(context: CommandContext<OptionValues<O>>): Promise<void>;
}

export interface ButtonDefinition {
  /** Only the person who ran the command, or an administrator, may press it. */
  ownerOrAdmin?: boolean;
  handler(context: ButtonContext): Promise<void>;
}

export interface PluginDefinition {
  name: string;
  commands: CommandDefinition<OptionSpecs>[];
  /** Button actions by name; a button's `action` is `<plugin>:<name>`. */
  buttons?: Readonly<Record<string, ButtonDefinition>>;
  /** Runs before every command and button of this plugin, after the app's own middleware. */
  middleware?: Middleware[];
}

const COMMAND_NAME = /^[a-z0-9_-]{1,32}$/;

export function defineCommand<const O extends OptionSpecs>(
  definition: CommandDefinition<O>,
): CommandDefinition<O> {
  if (!COMMAND_NAME.test(definition.name)) {
    throw new Error(`command name "${definition.name}": use 1–32 lower-case letters, digits, "_" or "-"`);
  }
  if (definition.description.length === 0 || definition.description.length > 100) {
    throw new Error(`command "${definition.name}": the description must be 1–100 characters`);
  }
  for (const [name, spec] of Object.entries(definition.options ?? {})) {
    if (!COMMAND_NAME.test(name))
      throw new Error(`command "${definition.name}": option name "${name}" is not valid`);
    if (spec.description.length === 0 || spec.description.length > 100) {
      throw new Error(
        `command "${definition.name}", option "${name}": the description must be 1–100 characters`,
      );
    }
  }
  return definition;
}

export function definePlugin(definition: PluginDefinition): PluginDefinition {
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(definition.name)) {
    throw new Error(`plugin name "${definition.name}": use up to 16 lower-case letters, digits or "-"`);
  }
  return definition;
}

/** A command with its options type erased, as the app stores it. */
export type AnyCommand = CommandDefinition<OptionSpecs>;
