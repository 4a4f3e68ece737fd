/**
 * Discord's JSON errors (`{ message, code }` with a status) that the fake answers, and the reply shape
 * its handlers return before the REST layer turns it into a Response.
 */
import type { DiscordErrorReply } from './types.js';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The errors the fake sends, by Discord's names; also handy for `failNext`. */
export const DISCORD_ERRORS = {
  unauthorized: { status: 401, code: 0, message: '401: Unauthorized' },
  unknownApplication: { status: 404, code: 10002, message: 'Unknown Application' },
  unknownChannel: { status: 404, code: 10003, message: 'Unknown Channel' },
  unknownGuild: { status: 404, code: 10004, message: 'Unknown Guild' },
  unknownMember: { status: 404, code: 10007, message: 'Unknown Member' },
  unknownMessage: { status: 404, code: 10008, message: 'Unknown Message' },
  unknownUser: { status: 404, code: 10013, message: 'Unknown User' },
  unknownWebhook: { status: 404, code: 10015, message: 'Unknown Webhook' },
  unknownInteraction: { status: 404, code: 10062, message: 'Unknown interaction' },
  unknownCommand: { status: 404, code: 10063, message: 'Unknown application command' },
  alreadyAcknowledged: { status: 400, code: 40060, message: 'Interaction has already been acknowledged.' },
  missingAccess: { status: 403, code: 50001, message: 'Missing Access' },
  missingPermissions: { status: 403, code: 50013, message: 'Missing Permissions' },
  invalidWebhookToken: { status: 401, code: 50027, message: 'Invalid Webhook Token' },
  invalidFormBody: { status: 400, code: 50035, message: 'Invalid Form Body' },
} as const satisfies Record<string, DiscordErrorReply>;

export function errorReply(error: DiscordErrorReply): Reply {
  return { status: error.status, body: { message: error.message, code: error.code } };
}
