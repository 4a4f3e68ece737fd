/** Accounts (spec §1.4): `find_user`, the paged list, one user's details, and moderator/admin changes. */
import { type AccountRecord, type Horde, HordeError, isHordeError } from '@hordekit/core';
import { Hono } from 'hono';
import { optionalKey, requireKey } from '../http/auth.js';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { reply } from '../http/respond.js';
import type { RouteDeps } from '../server.js';
import { type Privilege, userDetails } from '../views/user.js';
import { choice, limit } from './shared.js';

const PAGE_SIZE = 25;
const INT4_MAX = 2_147_483_647;

/** Wire field → engine field of `PUT /users/{id}`; fields hordekit has no feature for are ignored. */
const ACCOUNT_FIELDS: Record<string, string> = {
  kudos: 'kudos',
  moderator: 'moderator',
  concurrency: 'concurrency',
  trusted: 'trusted',
  flagged: 'flagged',
  customizer: 'customizer',
  vpn: 'vpn',
  service: 'service',
  education: 'education',
  special: 'special',
  username: 'username',
  contact: 'contact',
  public_workers: 'publicWorkers',
};

function userNotFound(): HttpError {
  return new HttpError(
    'UserNotFound',
    'No user with this id exists. User ids are numbers (the part after #).',
  );
}

async function requireUser(horde: Horde, raw: string): Promise<AccountRecord> {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > INT4_MAX) throw userNotFound();
  const account = await horde.getAccount(Number(raw));
  if (!account) throw userNotFound();
  return account;
}

function privilegeOf(horde: Horde, viewer: AccountRecord | undefined, target: AccountRecord): Privilege {
  if (!viewer || viewer.id === 0) return 0;
  if (viewer.roles.moderator || horde.config.accounts.adminIds.includes(viewer.id)) return 2;
  return viewer.id === target.id ? 1 : 0;
}

export function userRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const app = new Hono<ServerEnv>();

  app.get('/find_user', limit(deps, 'users'), async (c) => {
    const apiKey = optionalKey(c);
    if (apiKey === undefined) {
      throw new HttpError(
        'InvalidAPIKey',
        'find_user looks up the account of the key in the `apikey` header: send one.',
      );
    }
    const credentials = { apiKey };
    let account: AccountRecord;
    try {
      account = await horde.authenticate(credentials);
    } catch (error) {
      if (isHordeError(error, 'InvalidAPIKey')) {
        throw new HttpError(
          'UserNotFound',
          'No user has this API key. Check the key, or register for a new one.',
        );
      }
      throw error;
    }
    return reply(c, await userDetails(horde, account, privilegeOf(horde, account, account) || 1));
  });

  app.get('/users', limit(deps, 'users'), async (c) => {
    const pageText = c.req.query('page') ?? '1';
    if (!/^\d{1,9}$/.test(pageText) || Number(pageText) < 1) {
      throw new HttpError('BadRequest', '`page` must be a whole number from 1.');
    }
    const page = Number(pageText);
    const sort = choice(c, 'sort', ['kudos', 'age'] as const, 'kudos');
    if (page > 10_000) return reply(c, []);
    const accounts = await horde.store.listAccounts({
      offset: (page - 1) * PAGE_SIZE,
      limit: PAGE_SIZE,
      sort,
    });
    return reply(c, await Promise.all(accounts.map((account) => userDetails(horde, account, 0))));
  });

  app.get('/users/:id', limit(deps, 'userDetails'), async (c) => {
    const target = await requireUser(horde, c.req.param('id'));
    const apiKey = optionalKey(c);
    const viewer = apiKey ? await horde.authenticate({ apiKey }) : undefined;
    return reply(c, await userDetails(horde, target, privilegeOf(horde, viewer, target)));
  });

  app.put('/users/:id', limit(deps, 'userDetails'), async (c) => {
    const credentials = requireKey(c);
    const target = await requireUser(horde, c.req.param('id'));
    const input = await readJson(c, deps.options.maxBodyBytes);
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      throw new HordeError('ValidationError', 'Input payload validation failed', {
        errors: { payload: 'The body must be a JSON object of the fields to change.' },
      });
    }
    const changes: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(input)) {
      const mapped = ACCOUNT_FIELDS[field];
      if (mapped) changes[mapped] = value;
    }
    if ((input as { undelete?: unknown }).undelete === true) changes.deleted = false;
    return reply(c, await horde.modifyAccount(credentials, target.id, changes));
  });

  return app;
}
