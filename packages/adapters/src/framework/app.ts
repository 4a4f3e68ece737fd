/**
 * The chat app: plugins registered once, invocations from any adapter dispatched through the middleware
 * to their handler, with the error boundary around everything — every failure ends as a sentence the
 * person can act on, sent privately where the platform allows. Adapters call `dispatchCommand`,
 * `dispatchButton` and `autocomplete`; they read `commands` to register slash commands.
 */
import {
  type AnyContext,
  type ButtonContext,
  baseContext,
  type CommandContext,
  compose,
  type Middleware,
} from './context.js';
import type { AnyCommand, ButtonDefinition, PluginDefinition } from './define.js';
import { explainError, UserError } from './errors.js';
import {
  type ChatLogger,
  concurrencyCap,
  cooldown,
  LIMITED,
  logging,
  PROMPT,
  promptGate,
} from './middleware.js';
import { parseOptions } from './options.js';
import { SettingsStore } from './settings.js';
import type {
  AutocompleteRequest,
  ButtonPress,
  ChatHorde,
  Choice,
  CommandInvocation,
  PlatformIO,
  Where,
  Who,
} from './types.js';

export interface ChatAppOptions {
  horde: ChatHorde;
  plugins: PluginDefinition[];
  settings?: SettingsStore;
  logger?: ChatLogger;
  /** Runs before the built-in middleware of every invocation. */
  middleware?: Middleware[];
  /** For cooldowns (tests). */
  now?: () => number;
}

interface Registered {
  plugin: PluginDefinition;
  command: AnyCommand;
}

export class ChatApp {
  readonly horde: ChatHorde;
  readonly settings: SettingsStore;
  readonly #commands = new Map<string, Registered>();
  readonly #buttons = new Map<string, { plugin: PluginDefinition; button: ButtonDefinition }>();
  readonly #middleware: Middleware[];

  constructor(options: ChatAppOptions) {
    this.horde = options.horde;
    this.settings = options.settings ?? new SettingsStore();
    this.#middleware = [
      ...(options.logger ? [logging(options.logger)] : []),
      ...(options.middleware ?? []),
      cooldown(options.now),
      concurrencyCap(),
      promptGate(),
    ];
    for (const plugin of options.plugins) {
      for (const command of plugin.commands) {
        if (this.#commands.has(command.name)) throw new Error(`two plugins define /${command.name}`);
        this.#commands.set(command.name, { plugin, command });
      }
      for (const [name, button] of Object.entries(plugin.buttons ?? {})) {
        this.#buttons.set(`${plugin.name}:${name}`, { plugin, button });
      }
    }
  }

  /** Every command, for the adapters to register. */
  get commands(): AnyCommand[] {
    return [...this.#commands.values()].map((entry) => entry.command);
  }

  async dispatchCommand(invocation: CommandInvocation, io: PlatformIO): Promise<void> {
    const entry = this.#commands.get(invocation.command);
    const context = await this.#context(invocation.who, invocation.where, io);
    const commandContext: CommandContext = {
      ...context,
      kind: 'command',
      command: invocation.command,
      options: {},
    };
    await this.#guard(commandContext, io, async () => {
      if (!entry) throw new UserError(`There is no /${invocation.command} here. Try /help.`);
      const { command, plugin } = entry;
      if (command.adminOnly && !invocation.who.isAdmin) {
        throw new UserError(`Only admins of this place can use /${command.name}.`);
      }
      commandContext.options = parseOptions(command.options ?? {}, invocation.options);
      if (command.limited) commandContext.state[LIMITED] = true;
      if (command.promptOption) commandContext.state[PROMPT] = commandContext.options[command.promptOption];
      const run = compose([...this.#middleware, ...(plugin.middleware ?? [])], (ctx) =>
        command.handler(ctx as CommandContext<never>),
      );
      await run(commandContext);
    });
  }

  async dispatchButton(press: ButtonPress, io: PlatformIO): Promise<void> {
    const entry = this.#buttons.get(press.action);
    const context = await this.#context(press.who, press.where, io);
    const buttonContext: ButtonContext = { ...context, kind: 'button', press };
    await this.#guard(buttonContext, io, async () => {
      if (!entry) throw new UserError('That button no longer does anything.');
      const run = compose([...this.#middleware, ...(entry.plugin.middleware ?? [])], (ctx) =>
        entry.button.handler(ctx as ButtonContext),
      );
      await run(buttonContext);
    });
  }

  /** Suggestions for an option being typed; [] when the option has none or they fail. */
  async autocomplete(request: AutocompleteRequest): Promise<Choice[]> {
    const spec = this.#commands.get(request.command)?.command.options?.[request.option];
    if (spec?.type !== 'string' || !spec.autocomplete) return [];
    try {
      return (await spec.autocomplete(request.value, { horde: this.horde })).slice(0, 25);
    } catch {
      return [];
    }
  }

  async #context(who: Who, where: Where, io: PlatformIO) {
    const settings = await this.settings.get(where);
    return baseContext({
      who,
      where,
      horde: this.horde,
      settings,
      io,
      account: async () => {
        const { credentials, account, shared } = await this.horde.client.accountFor({
          provider: who.platform,
          externalId: who.id,
          username: who.displayName,
        });
        return { credentials, summary: account, shared: shared === true };
      },
    });
  }

  /** The error boundary: any failure becomes one private sentence to the person who asked. */
  async #guard(context: AnyContext, io: PlatformIO, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      const sentence = await explainError(error, {
        client: this.horde.client,
        account: async () => (await context.account().catch(() => undefined))?.summary,
        model: typeof context.state.model === 'string' ? context.state.model : undefined,
      });
      await io.reply({ text: sentence }, { ephemeral: true }).catch(() => {});
    }
  }
}

export function createChatApp(options: ChatAppOptions): ChatApp {
  return new ChatApp(options);
}
