/**
 * `/link`: one person, one balance across platforms.
 *
 * - Embedded horde: `/link` gives a one-time code (6 characters, valid 10 minutes, privately); `/link CODE`
 *   on another platform points that identity at the code's account (`HordeClient.linkIdentity`). The
 *   account the identity leaves keeps its kudos: when it has any, the first `/link CODE` only says how many
 *   and how to keep them (link the other way round), and `/link CODE confirm` links anyway.
 * - Remote horde: `/link <your AI Horde API key>` (private chats only) checks the key with the horde and
 *   keeps it encrypted (`KeyBox`) under `<platform>:<user id>`; `linkedKeyFor` hands it to the remote
 *   client's `keyFor`. `/link forget` removes it. The key is never repeated back.
 */
import { randomInt } from 'node:crypto';
import { type AccountSummary, HordeError, type IdentityInput } from '@hordekit/core';
import type Keyv from 'keyv';
import type { CommandContext } from '../framework/context.js';
import { defineCommand } from '../framework/define.js';
import { UserError } from '../framework/errors.js';
import type { Platform, Where } from '../framework/types.js';
import { KeyBox } from './key-box.js';

/** No 0/O, 1/I/L: a code read aloud or retyped from a phone survives. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;
/** Wrong codes one person may try per code lifetime before being told to wait. */
const MAX_TRIES = 5;
/** The public horde's anonymous key: not anyone's own account. */
const ANONYMOUS_KEY = '0000000000';

interface CodeRecord {
  accountId: number;
  platform: Platform;
  userId: string;
  expiresAt: number;
}

interface Tries {
  count: number;
  until: number;
}

export interface LinkCommandOptions {
  keyv: Keyv;
  /** Encrypts linked keys (remote mode); without it, keys cannot be linked. */
  secret?: string | undefined;
  codeTtlMs: number;
  now: () => number;
  /** For "get a key at <horde>/register" in remote mode. */
  hordeUrl?: string | undefined;
}

/** Platforms whose private replies nobody else can read even in a channel (Telegram's may land in the group). */
const PRIVATE_REPLIES: ReadonlySet<Platform> = new Set(['discord', 'slack', 'memory']);

/** Whether a secret (a key, a link code) may be answered here. */
export function secretsSafeHere(where: Where): boolean {
  return where.isPrivate || PRIVATE_REPLIES.has(where.platform);
}

const PLATFORM_NAMES: Readonly<Record<Platform, string>> = {
  discord: 'Discord',
  telegram: 'Telegram',
  slack: 'Slack',
  memory: 'the in-memory platform',
};

const kudosText = (kudos: number) => `${Math.floor(kudos)} kudos`;

export function linkCommand(options: LinkCommandOptions) {
  const { keyv, now } = options;
  const box = options.secret === undefined ? undefined : new KeyBox(options.secret);
  const minutes = Math.max(1, Math.round(options.codeTtlMs / 60_000));
  const keyOwner = (platform: string, userId: string) => `${platform}:${userId}`;

  async function linkedKeyFor(identity: IdentityInput): Promise<string | undefined> {
    if (!box) return undefined;
    const owner = keyOwner(identity.provider, identity.externalId);
    const sealed = await keyv.get(owner);
    return typeof sealed === 'string' ? box.open(sealed, owner) : undefined;
  }

  // Embedded: codes ------------------------------------------------------------------------------------

  async function issueCode(context: CommandContext): Promise<void> {
    if (!secretsSafeHere(context.where)) {
      throw new UserError(
        'Ask me for a link code in a private chat: whoever uses your code shares your kudos.',
      );
    }
    const { credentials, summary } = await context.account();
    if (!('accountId' in credentials)) {
      throw new UserError('This bot cannot link accounts with codes. Link your own horde key instead.');
    }
    const code = Array.from(
      { length: CODE_LENGTH },
      () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)],
    ).join('');
    const issuedKey = `link-issued:${keyOwner(context.who.platform, context.who.id)}`;
    // One code per person at a time: asking again retires the previous one.
    const previous = await keyv.get(issuedKey);
    if (typeof previous === 'string') await keyv.delete(`link-code:${previous}`);
    const record: CodeRecord = {
      accountId: credentials.accountId,
      platform: context.who.platform,
      userId: context.who.id,
      expiresAt: now() + options.codeTtlMs,
    };
    await keyv.set(`link-code:${code}`, record, options.codeTtlMs);
    await keyv.set(issuedKey, code, options.codeTtlMs);
    await context.ephemeral(
      `Your link code: ${code} (works once, for ${minutes} minutes; keep it to yourself). ` +
        `On your other platform, send /link ${code} to me: that account then uses this one, ${summary.alias}, ` +
        `and its ${kudosText(summary.kudos)}.`,
    );
  }

  async function redeemCode(context: CommandContext, typed: string, confirm: boolean): Promise<void> {
    const who = context.who;
    const triesKey = `link-tries:${keyOwner(who.platform, who.id)}`;
    const tries = (await keyv.get(triesKey)) as Tries | undefined;
    if (tries && tries.count >= MAX_TRIES && tries.until > now()) {
      throw new UserError(
        `Too many wrong codes. Wait ${minutes} minutes, then ask for a new code with /link on your other platform.`,
      );
    }
    const wrong = async (sentence: string): Promise<never> => {
      const count = tries && tries.until > now() ? tries.count + 1 : 1;
      const until = tries && tries.until > now() ? tries.until : now() + options.codeTtlMs;
      await keyv.set(triesKey, { count, until } satisfies Tries, Math.max(1, until - now()));
      throw new UserError(sentence);
    };

    const code = typed.toUpperCase().replace(/[\s-]/g, '');
    if (!new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`).test(code)) {
      return wrong(
        `A link code has ${CODE_LENGTH} letters and digits, like K7WQ2M. Send /link on your other platform to get one.`,
      );
    }
    const record = (await keyv.get(`link-code:${code}`)) as CodeRecord | undefined;
    if (!record) {
      return wrong(
        `${code} is not a link code (or it was used already). Send /link on your other platform for a new one.`,
      );
    }
    if (record.expiresAt <= now()) {
      await keyv.delete(`link-code:${code}`);
      return wrong(
        `That code has expired: codes work for ${minutes} minutes. Send /link on your other platform for a new one.`,
      );
    }
    if (record.platform === who.platform && record.userId === who.id) {
      throw new UserError(`That code is yours from here: send /link ${code} to me on your other platform.`);
    }
    const current = await context.account();
    if (current.summary.id === record.accountId) {
      await forgetCode(code, record);
      await context.ephemeral(`You are already linked: here you use ${current.summary.alias}.`);
      return;
    }
    const leftBehind = Math.floor(current.summary.kudos);
    if (leftBehind >= 1 && !confirm) {
      const target = await context.horde.client.account({ accountId: record.accountId });
      await context.ephemeral(
        `Your account here, ${current.summary.alias}, has ${kudosText(leftBehind)}. Kudos do not move when you ` +
          `link: this account would stay behind with them, and you would use ${target.alias} ` +
          `(${kudosText(target.kudos)}) instead. To keep these kudos, link the other way round: send /link here ` +
          `and use that code on your other platform. To link anyway, send /link ${code} confirm (the code works ` +
          'until it expires).',
      );
      return;
    }
    // Spent before linking: whoever comes second finds it gone (keyv has no atomic take, so an exact tie is not excluded).
    await forgetCode(code, record);
    await keyv.delete(triesKey);
    const linked = await context.horde.client.linkIdentity(
      { accountId: record.accountId },
      { provider: who.platform, externalId: who.id, username: who.displayName },
    );
    const behind =
      leftBehind >= 1
        ? ` Your previous account here, ${current.summary.alias}, keeps its ${kudosText(leftBehind)}.`
        : '';
    await context.ephemeral(
      `Linked: here you now use ${linked.alias}, the same account as on ${PLATFORM_NAMES[record.platform]}, ` +
        `with ${kudosText(linked.kudos)}.${behind}`,
    );
  }

  async function forgetCode(code: string, record: CodeRecord): Promise<void> {
    await keyv.delete(`link-code:${code}`);
    const issuedKey = `link-issued:${keyOwner(record.platform, record.userId)}`;
    if ((await keyv.get(issuedKey)) === code) await keyv.delete(issuedKey);
  }

  // Remote: the person's own key ---------------------------------------------------------------------------

  const registration = options.hordeUrl
    ? `${options.hordeUrl.replace(/\/+$/, '').replace(/\/api(\/v2)?$/, '')}/register`
    : "the horde's registration page";

  async function remoteLink(context: CommandContext, argument: string): Promise<void> {
    const owner = keyOwner(context.who.platform, context.who.id);
    if (argument.toLowerCase() === 'forget') {
      const had = await keyv.delete(owner);
      await context.ephemeral(
        had
          ? 'I forgot your key: you draw with the bot’s shared horde account again.'
          : 'No key of yours was linked: you draw with the bot’s shared horde account.',
      );
      return;
    }
    if (!argument) {
      const linked = await linkedKeyFor({
        provider: context.who.platform,
        externalId: context.who.id,
        username: '',
      });
      await context.ephemeral(
        linked
          ? 'Your own horde key is linked: your pictures and /kudos use your account. /link forget unlinks it.'
          : 'You draw with the bot’s shared horde account. To use your own account and kudos, send me ' +
              `/link <your AI Horde API key> in a private chat (get a key at ${registration}).`,
      );
      return;
    }
    if (!context.where.isPrivate) {
      throw new UserError(
        'Never post your API key in a channel: send /link <key> to me in a private chat. If anyone could read it here, get a new key from the horde.',
      );
    }
    if (!box) throw new UserError('This bot cannot keep horde keys (its operator has not set that up).');
    if (argument === ANONYMOUS_KEY) {
      throw new UserError(`That is the anonymous key, nobody’s own. Your key is at ${registration}.`);
    }
    let account: AccountSummary;
    try {
      account = await context.horde.client.account({ apiKey: argument });
    } catch (error) {
      if (error instanceof HordeError && (error.rc === 'InvalidAPIKey' || error.rc === 'UserNotFound')) {
        throw new UserError(
          `The horde does not know that key. Check it (your key is at ${registration}) and send it again.`,
        );
      }
      throw error;
    }
    const current = await context.account();
    if (current.shared && current.summary.id === account.id) {
      throw new UserError('That is the bot’s own key. Link the key of your own horde account.');
    }
    await keyv.set(owner, box.seal(argument, owner));
    await context.ephemeral(
      `Linked your horde account ${account.alias} (${kudosText(account.kudos)}): your pictures and /kudos use it ` +
        'from now on. /link forget unlinks it. You can delete your message with the key now.',
    );
  }

  const command = defineCommand({
    name: 'link',
    description: 'Share one kudos balance across platforms (or link your own horde key)',
    private: true,
    options: {
      code: {
        type: 'string',
        description: 'The code from /link on your other platform; on a remote horde your API key, or forget',
        maxLength: 200,
      },
      confirm: { type: 'boolean', description: 'Link even though this account keeps kudos behind' },
    },
    async handler(context) {
      const words = (context.options.code ?? '').split(/\s+/).filter(Boolean);
      let confirm = context.options.confirm === true;
      // Text platforms: `/link K7WQ2M confirm`.
      if (words.length > 1 && words.at(-1)?.toLowerCase() === 'confirm') {
        words.pop();
        confirm = true;
      }
      const argument = words.join(' ');
      if (context.horde.mode === 'remote') return remoteLink(context, argument);
      if (!argument) return issueCode(context);
      if (argument.toLowerCase() === 'forget') {
        throw new UserError(
          'On this horde your platforms share one account: there is no key to forget. /link gives a code to link another platform.',
        );
      }
      return redeemCode(context, argument, confirm);
    },
  });

  return { command, linkedKeyFor };
}
