/**
 * @hordekit/adapters/slack: a `ChatApp` served on Slack through @slack/bolt — slash commands acknowledged
 * at once, one message updated with progress, images through the external file upload, Block Kit buttons;
 * HTTP mode with request-signature verification or Socket Mode; standalone or inside an existing Bolt app.
 */

// The adapter.
export {
  createSlackAdapter,
  type SlackAdapter,
  type SlackAdapterOptions,
  type SlackStartOptions,
} from './adapter.js';

// How messages are rendered and sent, for apps that post outside a command.
export { escapeText, renderMessage, type SlackContent } from './blocks.js';
export { createSlackIO, NOT_HERE_TEXT, type SlackIOOptions, type SlackMessageRef } from './io.js';

// Who, where, and a slash command's text as options.
export { commandOptions, SlackPeople, slackWhere, userIdOf } from './people.js';
