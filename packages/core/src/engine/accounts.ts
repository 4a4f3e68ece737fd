/**
 * Accounts: the anonymous account, registration with a key shown once, authentication, chat identities,
 * and the account changes moderators and administrators may make (spec §1.4, §2.7).
 */
import { HordeError } from '../errors.js';
import { accountAlias, hashApiKey, newApiKey, parseAlias } from '../ids.js';
import { type Centikudos, fromCenti, toCenti } from '../ledger/money.js';
import { type AccountChangesInput, AccountChangesSchema } from '../requests/schemas.js';
import { parseWith } from '../requests/validate.js';
import type { AccountKind, AccountRecord, Role } from '../storage/types.js';
import type { EngineContext } from './context.js';

export const ANONYMOUS_ID = 0;

/** Who is calling: an API key (HTTP, remote clients) or, for trusted in-process callers, an account id. */
export type Credentials = { apiKey: string } | { accountId: number };

export function isAnonymous(account: AccountRecord): boolean {
  return account.id === ANONYMOUS_ID;
}

export function isAdmin(ctx: EngineContext, account: AccountRecord): boolean {
  return ctx.config.accounts.adminIds.includes(account.id);
}

export function isModerator(ctx: EngineContext, account: AccountRecord): boolean {
  return account.roles.moderator || isAdmin(ctx, account);
}

export function floorOf(ctx: EngineContext, account: AccountRecord): Centikudos {
  return toCenti(ctx.config.floors[account.kind]);
}

export function concurrencyFor(ctx: EngineContext, kind: AccountKind, education = false): number {
  if (kind === 'anonymous') return ctx.config.accounts.anonymousConcurrency;
  return education ? ctx.config.accounts.educationConcurrency : ctx.config.accounts.defaultConcurrency;
}

export function assertActive(account: AccountRecord): void {
  if (account.roles.deleted) {
    throw new HordeError('DeletedUser', 'This account has been deleted. Ask a moderator to restore it.');
  }
}

/** Creates the anonymous account (id 0) on a fresh store. */
export async function ensureAnonymous(ctx: EngineContext): Promise<AccountRecord> {
  const existing = await ctx.store.getAccount(ANONYMOUS_ID);
  if (existing) return existing;
  try {
    return await ctx.store.createAccount({
      id: ANONYMOUS_ID,
      username: 'Anonymous',
      kind: 'anonymous',
      apiKeyHash: null,
      concurrency: ctx.config.accounts.anonymousConcurrency,
      createdAt: ctx.clock.now(),
    });
  } catch (error) {
    // Another node sharing the store created it first (both start at once on an empty database).
    const created = await ctx.store.getAccount(ANONYMOUS_ID);
    if (created) return created;
    throw error;
  }
}

export async function authenticate(ctx: EngineContext, credentials: Credentials): Promise<AccountRecord> {
  if ('accountId' in credentials) {
    const account = await ctx.store.getAccount(credentials.accountId);
    if (!account) throw new HordeError('UserNotFound', 'No account has this id.');
    return account;
  }
  if (credentials.apiKey === ctx.config.accounts.anonymousKey) return ensureAnonymous(ctx);
  const account = await ctx.store.getAccountByKeyHash(hashApiKey(credentials.apiKey, ctx.apiKeyPepper));
  if (!account) {
    throw new HordeError(
      'InvalidAPIKey',
      'No user matched this API key. Check the key, or register for a new one.',
    );
  }
  return account;
}

const USERNAME_MIN = 3;
const USERNAME_MAX = 30;

export function checkUsername(username: unknown): string {
  if (typeof username !== 'string') throw new HordeError('BadRequest', 'A username must be text.');
  const trimmed = username.trim().replace(/\s+/g, ' ');
  if (trimmed.length > USERNAME_MAX) {
    throw new HordeError('TooLongUserName', `A username may have at most ${USERNAME_MAX} characters.`);
  }
  if (trimmed.length < USERNAME_MIN) {
    throw new HordeError('BadRequest', `A username needs at least ${USERNAME_MIN} characters.`);
  }
  if (trimmed.includes('#')) throw new HordeError('BadRequest', 'A username may not contain "#".');
  if (/\p{Cc}/u.test(trimmed))
    throw new HordeError('BadRequest', 'A username may not contain control characters.');
  return trimmed;
}

export interface RegisterOptions {
  username: string;
  /** @default 'pseudonymous' */
  kind?: Exclude<AccountKind, 'anonymous'>;
  roles?: Partial<Record<Role, boolean>>;
}

/** Creates an account and its API key. The key is returned once and only its hash is stored. */
export async function registerAccount(
  ctx: EngineContext,
  options: RegisterOptions,
): Promise<{ account: AccountRecord; apiKey: string }> {
  const username = checkUsername(options.username);
  const kind = options.kind ?? 'pseudonymous';
  const apiKey = newApiKey();
  const account = await ctx.store.createAccount({
    username,
    kind,
    apiKeyHash: hashApiKey(apiKey, ctx.apiKeyPepper),
    roles: options.roles,
    concurrency: concurrencyFor(ctx, kind, options.roles?.education),
    createdAt: ctx.clock.now(),
  });
  ctx.logger.debug({ account: account.id, kind }, 'account registered');
  return { account, apiKey };
}

/** Replaces an account's API key; the old one stops working at once. */
export async function rotateApiKey(ctx: EngineContext, accountId: number): Promise<string> {
  if (accountId === ANONYMOUS_ID)
    throw new HordeError('AnonForbidden', 'The anonymous account has no API key of its own.');
  const apiKey = newApiKey();
  await ctx.store.setApiKeyHash(accountId, hashApiKey(apiKey, ctx.apiKeyPepper));
  return apiKey;
}

/**
 * The account of an outside identity (a Discord user, a Telegram user…), created on first use without an
 * API key: the caller acts for it in-process. `verified` identities get the verified floor.
 */
export async function accountForIdentity(
  ctx: EngineContext,
  provider: string,
  externalId: string,
  options: { username: string; kind?: Exclude<AccountKind, 'anonymous'> },
): Promise<{ account: AccountRecord; created: boolean }> {
  if (!provider || !externalId) throw new HordeError('BadRequest', 'An identity needs a provider and an id.');
  const existing = await ctx.store.getAccountByIdentity(provider, externalId);
  if (existing) return { account: existing, created: false };
  let username: string;
  try {
    username = checkUsername(options.username);
  } catch {
    username = `${provider} user`;
  }
  const kind = options.kind ?? 'pseudonymous';
  const account = await ctx.store.createAccount({
    username,
    kind,
    apiKeyHash: null,
    concurrency: concurrencyFor(ctx, kind),
    createdAt: ctx.clock.now(),
    identity: { provider, externalId },
  });
  return { account, created: true };
}

/** Resolves `name#id` (or a bare id) to an account; the name part must match when given. */
export async function findByAlias(ctx: EngineContext, alias: string): Promise<AccountRecord | undefined> {
  const trimmed = alias.trim();
  const id = /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : parseAlias(trimmed);
  if (id === undefined) return undefined;
  const account = await ctx.store.getAccount(id);
  if (!account) return undefined;
  const name = trimmed.includes('#') ? trimmed.slice(0, trimmed.lastIndexOf('#')) : undefined;
  if (name !== undefined && name.toLowerCase() !== account.username.toLowerCase()) return undefined;
  return account;
}

export { accountAlias };

/** Changes an administrator, a moderator or the account itself may make (`PUT /users/{id}`). */
export type AccountChanges = AccountChangesInput;

const MODERATOR_ROLES = [
  'trusted',
  'flagged',
  'customizer',
  'vpn',
  'service',
  'education',
  'special',
] as const;

/**
 * Applies `changes` to `targetId` on behalf of `actor`, enforcing who may change what. Returns the fields
 * that changed (the AI Horde answers `PUT /users/{id}` with them).
 */
export async function modifyAccount(
  ctx: EngineContext,
  actor: AccountRecord,
  targetId: number,
  input: unknown,
): Promise<Record<string, unknown>> {
  const changes = parseWith(AccountChangesSchema, input);
  if (isAnonymous(actor)) throw new HordeError('AnonForbidden', 'Anonymous users cannot modify accounts.');
  const target = await ctx.store.getAccount(targetId);
  if (!target) throw new HordeError('UserNotFound', 'No account has this id.');
  const admin = isAdmin(ctx, actor);
  const moderator = isModerator(ctx, actor);
  const self = actor.id === target.id;
  const out: Record<string, unknown> = {};
  const roles: Partial<Record<Role, boolean>> = {};
  let concurrency: number | undefined;
  const profile: { username?: string; contact?: string | null; publicWorkers?: boolean } = {};

  const adminOnly = changes.kudos !== undefined || changes.moderator !== undefined;
  if (adminOnly && !admin)
    throw new HordeError('NotAdmin', 'Only an administrator may change kudos or moderators.');
  const modOnly =
    changes.concurrency !== undefined ||
    changes.deleted !== undefined ||
    MODERATOR_ROLES.some((r) => changes[r] !== undefined);
  if (modOnly && !moderator) throw new HordeError('NotModerator', 'Only a moderator may change this.');
  const selfOrMod =
    changes.username !== undefined || changes.contact !== undefined || changes.publicWorkers !== undefined;
  if (selfOrMod && !self && !moderator) {
    throw new HordeError('NotModerator', 'Only the account itself or a moderator may change this.');
  }
  if (isAnonymous(target) && (modOnly || selfOrMod || changes.moderator !== undefined)) {
    throw new HordeError('AnonForbidden', 'The anonymous account cannot be changed this way.');
  }

  if (changes.moderator !== undefined) {
    roles.moderator = changes.moderator;
    if (changes.moderator) roles.trusted = true;
    out.moderator = changes.moderator;
  }
  for (const role of MODERATOR_ROLES) {
    if (changes[role] === undefined) continue;
    roles[role] = changes[role];
    out[role] = changes[role];
  }
  if (changes.education !== undefined) {
    concurrency = changes.education
      ? ctx.config.accounts.educationConcurrency
      : ctx.config.accounts.defaultConcurrency;
  }
  if (changes.concurrency !== undefined) {
    if (!Number.isInteger(changes.concurrency) || changes.concurrency < 0 || changes.concurrency > 500) {
      throw new HordeError('BadRequest', 'Concurrency must be a whole number from 0 to 500.');
    }
    concurrency = changes.concurrency;
    out.concurrency = concurrency;
  }
  if (changes.deleted !== undefined) {
    roles.deleted = changes.deleted;
    out.deleted = changes.deleted;
  }
  if (changes.username !== undefined) profile.username = out.username = checkUsername(changes.username);
  if (changes.contact !== undefined) {
    if (changes.contact !== null && (changes.contact.length < 5 || changes.contact.length > 500)) {
      throw new HordeError('BadRequest', 'A contact must have 5 to 500 characters.');
    }
    profile.contact = out.contact = changes.contact;
  }
  if (changes.publicWorkers !== undefined) profile.publicWorkers = out.public_workers = changes.publicWorkers;
  if (Object.keys(out).length === 0 && changes.kudos === undefined) {
    throw new HordeError('NoUserModSelected', 'Nothing to change: name at least one field you may modify.');
  }

  if (Object.keys(roles).length || concurrency !== undefined || Object.keys(profile).length) {
    await ctx.store.updateAccount(target.id, {
      ...(Object.keys(roles).length ? { roles } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...profile,
    });
  }
  if (roles.trusted === true && target.escrow > 0) {
    // A trusted account no longer needs its rewards held back.
    await ctx.store.adjustBalance({
      accountId: target.id,
      kind: 'escrow',
      amount: target.escrow,
      bucket: 'accumulated',
      at: ctx.clock.now(),
    });
  }
  if (changes.kudos !== undefined) {
    if (!Number.isFinite(changes.kudos)) throw new HordeError('BadRequest', 'Kudos must be a number.');
    const updated = await ctx.store.adjustBalance({
      accountId: target.id,
      kind: 'admin',
      amount: toCenti(changes.kudos),
      bucket: 'admin',
      floor: floorOf(ctx, target),
      ref: `admin:${actor.id}`,
      at: ctx.clock.now(),
    });
    out.new_kudos = fromCenti(updated.balance);
  }
  ctx.logger.debug({ actor: actor.id, target: target.id, changes: Object.keys(out) }, 'account modified');
  return out;
}
