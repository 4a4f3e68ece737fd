/**
 * What Slack sends into an app: slash command fields, `block_actions` payloads and `event_callback`
 * envelopes, each carrying a fresh `response_url` on the fake. The same payloads travel over HTTP (signed,
 * see `http-driver.ts`) and Socket Mode (see `socket-mode.ts`).
 */

import type { BlockActionInit, SentInteraction, SlashCommandInit } from './types.js';
import { publicMessage } from './web-api.js';
import type { SlackWorkspace } from './workspace.js';

function triggerId(workspace: SlackWorkspace): string {
  return `${Date.now()}.${workspace.nextId('')}.${Math.random().toString(16).slice(2, 18)}`;
}

/** The fields of a slash command (form fields over HTTP, the payload object over Socket Mode). */
export function slashCommandPayload(
  workspace: SlackWorkspace,
  init: SlashCommandInit,
): { fields: Record<string, string>; sent: SentInteraction } {
  const { identity } = workspace;
  const userId = init.user_id ?? workspace.firstUserId;
  const channelId = init.channel_id ?? workspace.firstChannelId;
  const response = workspace.newResponseUrl(channelId, userId);
  const sent = { responseToken: response.token, responseUrl: response.url, triggerId: triggerId(workspace) };
  const fields = {
    token: 'fake-verification-token',
    team_id: init.team_id ?? identity.teamId,
    team_domain: identity.teamDomain,
    channel_id: channelId,
    channel_name: init.channel_name ?? channelName(workspace, channelId),
    user_id: userId,
    user_name: init.user_name ?? userName(workspace, userId),
    command: init.command,
    text: init.text ?? '',
    api_app_id: identity.appId,
    is_enterprise_install: 'false',
    response_url: sent.responseUrl,
    trigger_id: sent.triggerId,
  };
  return { fields, sent };
}

/** A `block_actions` payload for a button click on a message the channel shows. */
export function blockActionPayload(
  workspace: SlackWorkspace,
  init: BlockActionInit,
): { payload: Record<string, unknown>; sent: SentInteraction } {
  const { identity } = workspace;
  const userId = init.user ?? workspace.firstUserId;
  const message = workspace.findMessage(init.channel, init.message_ts);
  const response = workspace.newResponseUrl(init.channel, userId, init.message_ts);
  const sent = { responseToken: response.token, responseUrl: response.url, triggerId: triggerId(workspace) };
  const ephemeral = message?.ephemeral === true;
  const payload = {
    type: 'block_actions',
    user: {
      id: userId,
      username: userName(workspace, userId),
      name: userName(workspace, userId),
      team_id: identity.teamId,
    },
    api_app_id: identity.appId,
    token: 'fake-verification-token',
    container: {
      type: 'message',
      message_ts: init.message_ts,
      channel_id: init.channel,
      is_ephemeral: ephemeral,
    },
    trigger_id: sent.triggerId,
    team: { id: identity.teamId, domain: identity.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: init.channel, name: channelName(workspace, init.channel) },
    // Slack leaves the message out when the clicked message was ephemeral.
    ...(message && !ephemeral ? { message: publicMessage(message) } : {}),
    state: { values: {} },
    response_url: sent.responseUrl,
    actions: [
      {
        action_id: init.action_id,
        block_id: init.block_id ?? 'actions',
        type: 'button',
        ...(init.value !== undefined ? { value: init.value } : {}),
        action_ts: workspace.nextTs(),
      },
    ],
  };
  return { payload, sent };
}

/** Wraps an inner event (`{ type: 'app_mention', ... }`) in an `event_callback`; a full callback passes through. */
export function eventCallback(
  workspace: SlackWorkspace,
  event: Record<string, unknown>,
): Record<string, unknown> {
  if (event.type === 'event_callback') return event;
  const { identity } = workspace;
  return {
    token: 'fake-verification-token',
    team_id: identity.teamId,
    api_app_id: identity.appId,
    event: { event_ts: workspace.nextTs(), ...event },
    type: 'event_callback',
    event_id: workspace.nextId('Ev'),
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: identity.teamId,
        user_id: identity.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
}

function channelName(workspace: SlackWorkspace, id: string): string {
  try {
    return workspace.channelInfo(id).name;
  } catch {
    return id.toLowerCase();
  }
}

function userName(workspace: SlackWorkspace, id: string): string {
  try {
    return String(workspace.user(id).name);
  } catch {
    return id.toLowerCase();
  }
}
