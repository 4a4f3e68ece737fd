/**
 * The built-in middleware: per-person cooldown and concurrent-request cap, banned words and the NSFW gate
 * for prompts, and logging. (Admin-only commands and the error boundary are part of the app itself.)
 */
import type { AnyContext, Middleware } from './context.js';
import { HordeRefusal, UserError } from './errors.js';
import { adultAllowed } from './settings.js';

/** Marks a command as one that sends work to the horde (cooldown and concurrency apply). */
export const LIMITED = 'limited';

function isLimited(context: AnyContext): boolean {
  return context.state[LIMITED] === true;
}

function personKey(context: AnyContext): string {
  return `${context.where.platform}:${context.where.placeId}:${context.who.id}`;
}

/** Seconds between two limited commands of one person in one place (the place's `cooldownSeconds`). */
export function cooldown(now: () => number = Date.now): Middleware {
  const last = new Map<string, number>();
  return async (context, next) => {
    // Admins of a place skip its cooldown, but in a private chat everyone is "admin" of their own place.
    if (!isLimited(context) || (context.who.isAdmin && !context.where.isPrivate)) return next();
    const key = personKey(context);
    const wait = (last.get(key) ?? 0) + context.settings.cooldownSeconds * 1000 - now();
    if (wait > 0) {
      throw new UserError(`Slow down a little: you can draw again in ${Math.ceil(wait / 1000)} s.`);
    }
    const previous = last.get(key);
    last.set(key, now());
    try {
      await next();
    } catch (error) {
      // A request refused before it reached the horde (a bad option, too many steps, a model nobody serves)
      // costs no cooldown.
      if (error instanceof UserError || error instanceof HordeRefusal) {
        if (previous === undefined) last.delete(key);
        else last.set(key, previous);
      }
      throw error;
    }
  };
}

/** At most the place's `maxConcurrent` limited commands of one person running at once. */
export function concurrencyCap(): Middleware {
  const running = new Map<string, number>();
  return async (context, next) => {
    if (!isLimited(context)) return next();
    const key = personKey(context);
    const count = running.get(key) ?? 0;
    if (count >= context.settings.maxConcurrent) {
      throw new UserError(
        `You already have ${count} request${count === 1 ? '' : 's'} running here (the limit is ${context.settings.maxConcurrent}). Wait for one to finish.`,
      );
    }
    running.set(key, count + 1);
    try {
      await next();
    } finally {
      const left = (running.get(key) ?? 1) - 1;
      if (left <= 0) running.delete(key);
      else running.set(key, left);
    }
  };
}

/** Words that look like a request for adult content, for the `refuse` policy of non-adult places. */
const ADULT_WORDS =
  /\b(nsfw|nude|nudes|nudity|naked|porn\w*|sex|sexy|explicit|hentai|topless|nipples?|genitals?|erotic\w*|lewd|xxx)\b/i;

/** The prompt of a limited command, where middleware can read it. */
export const PROMPT = 'prompt';

/**
 * Banned words (refused) and adult content (only in adult places; elsewhere the request goes out SFW with
 * the censor on, or is refused under the `refuse` policy). Sets `state.nsfw` for the handler.
 */
export function promptGate(): Middleware {
  return async (context, next) => {
    const prompt = context.state[PROMPT];
    if (typeof prompt !== 'string') return next();
    const banned = context.settings.bannedWords.find((word) =>
      new RegExp(`\\b${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'i').test(prompt),
    );
    if (banned) throw new UserError(`“${banned}” is not allowed in prompts here.`);
    const adult = adultAllowed(context.where, context.settings);
    if (!adult && context.settings.sfwPolicy === 'refuse' && ADULT_WORDS.test(prompt)) {
      throw new UserError(
        'Adult content is not allowed here. Ask in an age-restricted channel, or ask an admin to allow it for this place.',
      );
    }
    context.state.nsfw = adult;
    await next();
  };
}

export interface ChatLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** One log line per command or button: who, where, what, how long, and whether it failed. */
export function logging(logger: ChatLogger): Middleware {
  return async (context, next) => {
    const started = Date.now();
    const what = context.kind === 'command' ? `/${context.command}` : context.press.action;
    const fields = {
      platform: context.where.platform,
      place: context.where.placeId,
      user: context.who.id,
      what,
    };
    try {
      await next();
      logger.info({ ...fields, ms: Date.now() - started }, 'chat invocation');
    } catch (error) {
      logger.warn({ ...fields, ms: Date.now() - started, error: String(error) }, 'chat invocation refused');
      throw error;
    }
  };
}
