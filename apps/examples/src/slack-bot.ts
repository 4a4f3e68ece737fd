/**
 * A Bolt app you already have — it answers /ping — that also serves /style from a horde, on the same
 * `App`. SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (requests on SLACK_PORT, default 3000, at
 * /slack/events); HORDE_REMOTE_URL (+ HORDE_REMOTE_API_KEY) draws on a remote horde.
 */
import { createChatApp } from '@hordekit/adapters';
import { createSlackAdapter } from '@hordekit/adapters/slack';
import { App } from '@slack/bolt';
import { startExampleHorde } from './horde.js';
import { stylePlugin } from './style-plugin.js';

const { SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: signingSecret } = process.env;
if (!token || !signingSecret) throw new Error('Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.');

// The app you already have.
const app = new App({ token, signingSecret });
app.command('/ping', async ({ ack }) => {
  await ack('pong');
});

// hordekit: /style and its buttons, registered on the same app.
const { horde } = await startExampleHorde({
  remoteUrl: process.env.HORDE_REMOTE_URL,
  remoteApiKey: process.env.HORDE_REMOTE_API_KEY,
});
const chat = createChatApp({ horde, plugins: [stylePlugin()] });
createSlackAdapter({ chat, bolt: app });

await app.start(Number(process.env.SLACK_PORT ?? 3000));
console.log('Slack app running: /ping and /style');
