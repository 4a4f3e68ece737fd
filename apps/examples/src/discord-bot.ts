/**
 * A discord.js bot you already have — it answers /ping — that also serves /style from a horde, on the
 * same `Client`. DISCORD_TOKEN and DISCORD_APPLICATION_ID; DISCORD_GUILD_ID registers the commands to one
 * guild (instant) instead of globally; HORDE_REMOTE_URL (+ HORDE_REMOTE_API_KEY) draws on a remote horde.
 */
import { createChatApp } from '@hordekit/adapters';
import { createDiscordAdapter } from '@hordekit/adapters/discord';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { startExampleHorde } from './horde.js';
import { stylePlugin } from './style-plugin.js';

const {
  DISCORD_TOKEN: token,
  DISCORD_APPLICATION_ID: applicationId,
  DISCORD_GUILD_ID: guildId,
} = process.env;
if (!token || !applicationId) throw new Error('Set DISCORD_TOKEN and DISCORD_APPLICATION_ID.');

// The bot you already have.
const client = new Client({ intents: [GatewayIntentBits.Guilds] });
client.on(Events.InteractionCreate, async (interaction) => {
  if (interaction.isChatInputCommand() && interaction.commandName === 'ping') await interaction.reply('pong');
});
client.once(Events.ClientReady, async ({ application }) => {
  await application.commands.create({ name: 'ping', description: 'Replies pong' }, guildId);
});

// hordekit: /style on the same client. The adapter answers only its own commands and buttons.
const { horde } = await startExampleHorde({
  remoteUrl: process.env.HORDE_REMOTE_URL,
  remoteApiKey: process.env.HORDE_REMOTE_API_KEY,
});
const chat = createChatApp({ horde, plugins: [stylePlugin()] });
const discord = createDiscordAdapter({ chat, client, token, applicationId, guildId });
await discord.registerCommands();

await client.login(token);
console.log('Discord bot running: /ping and /style');
