/**
 * A grammY bot you already have — it answers /ping — that also serves /style from a horde, on the same
 * `Bot`. TELEGRAM_BOT_TOKEN; HORDE_REMOTE_URL (+ HORDE_REMOTE_API_KEY) draws on a remote horde.
 */
import { createChatApp } from '@hordekit/adapters';
import { createTelegramAdapter } from '@hordekit/adapters/telegram';
import { Bot } from 'grammy';
import { startExampleHorde } from './horde.js';
import { stylePlugin } from './style-plugin.js';

const token = process.env.TELEGRAM_BOT_TOKEN;
if (!token) throw new Error('Set TELEGRAM_BOT_TOKEN.');

// The bot you already have.
const bot = new Bot(token);
bot.command('ping', (ctx) => ctx.reply('pong'));

// hordekit: /style and its buttons, registered on the same bot; other updates stay the bot's.
const { horde } = await startExampleHorde({
  remoteUrl: process.env.HORDE_REMOTE_URL,
  remoteApiKey: process.env.HORDE_REMOTE_API_KEY,
});
const chat = createChatApp({ horde, plugins: [stylePlugin()] });
createTelegramAdapter({ chat, bot });

process.once('SIGINT', () => bot.stop());
await bot.start({ onStart: ({ username }) => console.log(`@${username} running: /ping and /style`) });
