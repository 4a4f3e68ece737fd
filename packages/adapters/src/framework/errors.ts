/**
 * What a chat user reads when something goes wrong: every horde `rc` turned into a sentence they can act
 * on (what it costs and what they have, which models are served now, when to try again), and `UserError`
 * for the framework's own refusals (cooldowns, bad options, permissions).
 */
import type { AccountSummary, HordeClient } from '@hordekit/core';

/** A refusal meant for the user as it is. */
export class UserError extends Error {
  override name = 'UserError';
}

/** A refusal the framework raises in the horde's terms (an `rc`), explained like one from the horde. */
export class HordeRefusal extends Error {
  override name = 'HordeRefusal';
  constructor(
    readonly rc: string,
    message: string,
  ) {
    super(message);
  }
}

/** The fields of a horde error (an engine `HordeError`, or a remote horde's `{message, rc}`). */
interface HordeLike {
  rc: string;
  message: string;
  details?: Record<string, unknown>;
}

function asHordeError(error: unknown): HordeLike | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { rc, message } = error as { rc?: unknown; message?: unknown };
  return typeof rc === 'string' && typeof message === 'string' ? (error as HordeLike) : undefined;
}

export interface ExplainContext {
  client: HordeClient;
  /** The requester's account, when known: for "you have N kudos". */
  account?: () => Promise<AccountSummary | undefined>;
  /** The model the request named, if any. */
  model?: string;
}

/** One or two sentences for `error`; never a stack trace, never "something went wrong" alone. */
export async function explainError(error: unknown, context: ExplainContext): Promise<string> {
  if (error instanceof UserError) return error.message;
  const horde = asHordeError(error);
  if (!horde) {
    return 'The horde could not be reached or answered strangely. Please try again in a minute; if it keeps happening, tell an admin.';
  }
  switch (horde.rc) {
    case 'KudosUpfront': {
      const required = Number(horde.details?.required);
      const have = (await context.account?.().catch(() => undefined))?.kudos;
      const cost = Number.isFinite(required)
        ? `It needs ${Math.round(required)} kudos upfront`
        : 'It needs kudos upfront';
      const balance = have === undefined ? '' : `, and you have ${Math.floor(have)}`;
      return (
        `That request is too big to run on credit. ${cost}${balance}. Make it smaller (512×512, fewer steps or ` +
        'images) or earn kudos by running a worker — kudos are never sold.'
      );
    }
    case 'NoValidWorkers':
    case 'NoAvailableWorker':
      return noWorkerSentence(context);
    case 'TooManyPrompts':
    case 'ConcurrencyLimit':
      return 'You already have as many requests waiting as the horde allows. Wait for one to finish, then try again.';
    case 'InvalidAPIKey':
      return 'The horde does not accept the key linked to your account. Link it again with /link, or unlink it.';
    case 'Forbidden':
    case 'AnonForbidden':
      return `The horde refused: ${horde.message}`;
    case 'RequestNotFound':
    case 'RequestExpired':
      return 'That request is gone (it finished long ago or expired). Draw it again.';
    case 'TimeoutIP':
    case 'TooManyRequests':
    case 'RateLimited':
      return 'The horde asks us to slow down. Try again in a minute.';
    default:
      // Validation and the rest: the horde's own message is already written for people.
      return `The horde refused the request: ${horde.message}`;
  }
}

async function noWorkerSentence(context: ExplainContext): Promise<string> {
  const served = await context.client
    .workers('image')
    .then((workers) => [
      ...new Set(
        workers
          .filter((worker) => worker.online && !worker.maintenance_mode)
          .flatMap((worker) => worker.models),
      ),
    ])
    .catch(() => []);
  const what = context.model
    ? `No worker serves ${context.model} right now.`
    : 'No worker can serve that request right now.';
  if (served.length === 0) return `${what} No image worker is online at all; try again later.`;
  return `${what} Served now: ${served.slice(0, 10).join(', ')}.`;
}
