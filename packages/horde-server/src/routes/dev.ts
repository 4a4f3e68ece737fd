/**
 * `POST /api/v2/dev/test-user` (spec §5.1): mints a test account for integrators' suites (horde_sdk's
 * server-backed run). It exists only when the operator enables it (`HORDE_TEST_APIKEYS=1`), and only
 * answers loopback peers — the TCP peer, never `X-Forwarded-For`.
 */
import { toCenti } from '@hordekit/core';
import { Hono } from 'hono';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError, validationFailed } from '../http/errors.js';
import { reply } from '../http/respond.js';
import { peerAddress } from '../middleware/request-context.js';
import type { RouteDeps } from '../server.js';
import { TestUserInputSchema } from './dev-schema.js';

const PROVIDER = 'dev-test-user';

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function devRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const app = new Hono<ServerEnv>();

  app.post('/dev/test-user', async (c) => {
    if (!deps.options.testApiKeys) throw new HttpError('NotFound', 'There is nothing at this path.');
    if (!isLoopback(peerAddress(c, false))) {
      throw new HttpError('Forbidden', 'Test users can only be created from the machine the horde runs on.');
    }
    const parsed = TestUserInputSchema.safeParse(await readJson(c, 65_536));
    if (!parsed.success) {
      throw validationFailed(
        Object.fromEntries(
          parsed.error.issues.map((issue) => [issue.path.join('.') || 'payload', issue.message]),
        ),
      );
    }
    const input = parsed.data;
    const roles = { moderator: input.moderator, trusted: input.trusted || input.moderator };
    let account = await horde.store.getAccountByIdentity(PROVIDER, input.oauth_id);
    const created = !account;
    let apiKey: string;
    if (account) {
      apiKey = await horde.rotateApiKey(account.id);
      account = await horde.store.updateAccount(account.id, { roles });
    } else {
      const registered = await horde.registerAccount({ username: input.username, kind: 'verified', roles });
      await horde.store.linkIdentity(registered.account.id, PROVIDER, input.oauth_id);
      account = registered.account;
      apiKey = registered.apiKey;
    }
    const difference = toCenti(input.kudos) - account.balance;
    if (difference !== 0) {
      account = await horde.store.adjustBalance({
        accountId: account.id,
        kind: 'admin',
        amount: difference,
        bucket: 'admin',
        ref: 'dev/test-user',
        at: horde.clock.now(),
      });
    }
    return reply(
      c,
      {
        api_key: apiKey,
        user_id: String(account.id),
        username: account.username,
        alias: `${account.username}#${account.id}`,
        kudos: account.balance / 100,
        trusted: account.roles.trusted,
        moderator: account.roles.moderator,
        created,
      },
      created ? 201 : 200,
    );
  });

  return app;
}
