/** Kudos (spec §1.6): transfers between accounts (idempotent with `Idempotency-Key`) and awards. */
import { Hono } from 'hono';
import { requireKey } from '../http/auth.js';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { reply } from '../http/respond.js';
import type { RouteDeps } from '../server.js';
import { limit } from './shared.js';

function fieldsOf(input: unknown): { username?: unknown; amount?: unknown } {
  return input && typeof input === 'object' && !Array.isArray(input) ? input : {};
}

export function kudosRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const app = new Hono<ServerEnv>();

  app.post('/kudos/transfer', limit(deps, 'transfer'), async (c) => {
    const credentials = requireKey(c);
    const input = fieldsOf(await readJson(c, deps.options.maxBodyBytes));
    const outcome = await horde.transfer(credentials, {
      to: typeof input.username === 'string' ? input.username : '',
      amount: input.amount ?? 100,
      idempotencyKey: c.req.header('idempotency-key')?.slice(0, 255) ?? null,
    });
    if (!outcome.replayed) deps.metrics?.countTransfer(outcome.transferred);
    return reply(c, { transferred: outcome.transferred });
  });

  app.post('/kudos/award', limit(deps, 'transfer'), async (c) => {
    const credentials = requireKey(c);
    const input = fieldsOf(await readJson(c, deps.options.maxBodyBytes));
    const to = typeof input.username === 'string' ? input.username : '';
    return reply(c, await horde.award(credentials, to, input.amount ?? 100));
  });

  return app;
}
