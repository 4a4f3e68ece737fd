/**
 * The Discord adapter: one `interactionCreate` listener that turns slash commands, button presses and
 * autocomplete into the chat app's `dispatchCommand`, `dispatchButton` and `autocomplete`. It creates and
 * logs in its own discord.js `Client` (standalone), or attaches to the caller's (plugin inside an existing
 * bot, which logs in itself); either way slash commands are registered over REST.
 */
import { once } from 'node:events';
import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  REST,
  type RESTOptions,
} from 'discord.js';
import type { ChatApp } from '../framework/app.js';
import type { SentMessage } from '../framework/types.js';
import { registerCommands } from './commands.js';
import { optionsOf, whereOf, whoOf } from './invocation.js';
import { type DiscordMessageRef, InteractionIO } from './io.js';
import { decodeCustomId } from './render.js';

export interface DiscordAdapterOptions {
  /** The chat app whose commands, buttons and autocomplete this adapter serves. */
  chat: ChatApp;
  /** The bot token (Developer Portal → Bot): logs the created client in and registers commands. */
  token: string;
  /** The application id (Developer Portal → General Information). */
  applicationId: string;
  /** Register commands to this guild only, where updates show at once. @default undefined (global commands) */
  guildId?: string;
  /**
   * Discord's REST base URL (`DISCORD_API_URL`): a proxy, or a fake in tests. Applies to the created client
   * and to command registration; an attached client keeps its own. @default 'https://discord.com/api'
   */
  apiUrl?: string;
  /** Attach to this client (its owner logs it in) instead of creating one. @default a new Client (Guilds intent) */
  client?: Client;
  /** @discordjs/rest options (retries, timeout…) for the created client and for registration. @default {} */
  restOptions?: Partial<RESTOptions>;
  /**
   * Registration replaces every command in the scope (one bulk PUT) instead of upserting ours one by one.
   * @default true for a created client, false for an attached one (whose bot may have commands of its own)
   */
  overwriteCommands?: boolean;
  /** Failures outside the chat app's error boundary (Discord refusing a call). @default console.error */
  onError?: (error: unknown, interaction: Interaction) => void;
}

export interface DiscordAdapter {
  readonly client: Client;
  /** Registers the chat app's slash commands (to `guildId`, or globally). */
  registerCommands(): Promise<void>;
  /** Logs the created client in and waits until it is ready, then registers commands. */
  start(): Promise<void>;
  /** Detaches the listener; destroys the client if the adapter created it. */
  stop(): Promise<void>;
  /** Resolves once no interaction is being handled (graceful shutdown, tests). */
  idle(): Promise<void>;
}

export function createDiscordAdapter(options: DiscordAdapterOptions): DiscordAdapter {
  const { chat } = options;
  const rest = { ...options.restOptions, ...(options.apiUrl ? { api: options.apiUrl } : {}) };
  const ownsClient = options.client === undefined;
  const client = options.client ?? new Client({ intents: [GatewayIntentBits.Guilds], rest });
  const commandNames = new Set(chat.commands.map((command) => command.name));
  // Commands marked `private` defer ephemerally, so no public "thinking…" shows; others defer publicly (a
  // private answer there still arrives privately).
  const privateCommands = new Set(
    chat.commands.filter((command) => command.private).map((command) => command.name),
  );
  const onError =
    options.onError ??
    ((error: unknown) => console.error('hordekit discord adapter: an interaction failed', error));
  const inFlight = new Set<Promise<void>>();

  async function onCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    // First, before anything that waits: Discord drops interactions not answered within 3 s.
    const kind = privateCommands.has(interaction.commandName) ? 'ephemeral' : 'public';
    const response = await interaction.deferReply({
      withResponse: true,
      ...(kind === 'ephemeral' ? { flags: MessageFlags.Ephemeral } : {}),
    });
    const io = new InteractionIO(interaction, {
      kind,
      originalId: response.interaction.responseMessageId ?? undefined,
    });
    try {
      const invocation = {
        command: interaction.commandName,
        options: optionsOf(interaction),
        who: whoOf(interaction),
        where: await whereOf(interaction),
      };
      await chat.dispatchCommand(invocation, io);
    } finally {
      await io.close();
    }
  }

  async function onButton(
    interaction: ButtonInteraction,
    pressed: { action: string; payload: string },
  ): Promise<void> {
    await interaction.deferUpdate();
    const ref: DiscordMessageRef = {
      channelId: interaction.message.channelId,
      userId: interaction.user.id,
      ephemeral: interaction.message.flags.has(MessageFlags.Ephemeral),
      // After deferUpdate, the interaction's `@original` is the message the button is on.
      webhook: { interaction, message: '@original' },
    };
    const message: SentMessage = { platform: 'discord', id: interaction.message.id, ref };
    const io = new InteractionIO(interaction, { kind: 'none' });
    await chat.dispatchButton(
      { ...pressed, who: whoOf(interaction), where: await whereOf(interaction), message },
      io,
    );
  }

  async function onAutocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const focused = interaction.options.getFocused(true);
    const choices = await chat.autocomplete({
      command: interaction.commandName,
      option: focused.name,
      value: String(focused.value),
      who: whoOf(interaction),
      where: await whereOf(interaction, { fetchChannel: false }),
    });
    await interaction.respond(
      choices
        .slice(0, 25)
        .map((choice) => ({ name: choice.name.slice(0, 100), value: choice.value.slice(0, 100) })),
    );
  }

  /** Only what the chat app defines: in a shared client, other commands and buttons are the host bot's. */
  function route(interaction: Interaction): Promise<void> | undefined {
    if (interaction.isChatInputCommand() && commandNames.has(interaction.commandName)) {
      return onCommand(interaction);
    }
    if (interaction.isAutocomplete() && commandNames.has(interaction.commandName)) {
      return onAutocomplete(interaction);
    }
    if (interaction.isButton()) {
      const pressed = decodeCustomId(interaction.customId);
      if (pressed) return onButton(interaction, pressed);
    }
    return undefined;
  }

  const listener = (interaction: Interaction): void => {
    const work = route(interaction)?.catch((error: unknown) => onError(error, interaction));
    if (!work) return;
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  client.on(Events.InteractionCreate, listener);

  const adapter: DiscordAdapter = {
    client,
    async registerCommands() {
      await registerCommands(chat.commands, {
        rest: new REST({ version: '10', ...rest }).setToken(options.token),
        applicationId: options.applicationId,
        ...(options.guildId ? { guildId: options.guildId } : {}),
        overwrite: options.overwriteCommands ?? ownsClient,
      });
    },
    async start() {
      if (ownsClient && !client.isReady()) {
        const ready = once(client, Events.ClientReady);
        await client.login(options.token);
        await ready;
      }
      await adapter.registerCommands();
    },
    async stop() {
      client.off(Events.InteractionCreate, listener);
      if (ownsClient) await client.destroy();
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
  return adapter;
}
