/**
 * Status and statistics (spec §1.7): heartbeat (never rate limited: load balancers probe it), modes,
 * models (served now, with queue and ETA), performance, and the generation totals per period and model.
 */
import type { Horde, ModelStatus } from '@hordekit/core';
import { Hono } from 'hono';
import { optionalKey } from '../http/auth.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { reply } from '../http/respond.js';
import type { RouteDeps } from '../server.js';
import { SERVER_VERSION } from '../version.js';
import { choice, limit } from './shared.js';

type ModelState = 'known' | 'custom' | 'all';

function isKnown(horde: Horde, status: ModelStatus): boolean {
  return status.type === 'image'
    ? horde.models.image(status.name) !== undefined
    : horde.models.text(status.name) !== undefined;
}

function countParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new HttpError('BadRequest', `\`${name}\` must be a whole number.`);
  return Number(value);
}

export function statusRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const app = new Hono<ServerEnv>();

  app.get('/status/heartbeat', async (c) => {
    const performance = await horde.performance();
    return reply(c, {
      message: 'OK',
      version: SERVER_VERSION,
      queue: performance.queued_requests + performance.queued_text_requests,
      threads: performance.thread_count + performance.text_thread_count,
      active_count: performance.worker_count + performance.text_worker_count,
      db_connection: true,
    });
  });

  app.get('/status/modes', limit(deps, 'modes'), async (c) => {
    const apiKey = optionalKey(c);
    const modes: Record<string, boolean> = { maintenance_mode: false, invite_only_mode: false };
    if (apiKey) {
      const viewer = await horde.authenticate({ apiKey });
      if (!viewer.roles.moderator && !horde.config.accounts.adminIds.includes(viewer.id)) {
        throw new HttpError(
          'NotModerator',
          'Only moderators may see the raid mode; ask without a key for the rest.',
        );
      }
      modes.raid_mode = false;
    }
    return reply(c, modes);
  });

  app.get('/status/models', limit(deps, 'default'), async (c) => {
    const kind = choice(c, 'type', ['image', 'text'] as const, 'image');
    const state = choice<ModelState>(c, 'model_state', ['known', 'custom', 'all'], 'all');
    const min = countParam(c.req.query('min_count'), 'min_count');
    const max = countParam(c.req.query('max_count'), 'max_count');
    const models = (await horde.modelStatuses(kind)).filter(
      (model) =>
        (state === 'all' || isKnown(horde, model) === (state === 'known')) &&
        (min === undefined || model.count >= min) &&
        (max === undefined || model.count <= max),
    );
    return reply(c, models);
  });

  app.get('/status/models/:name', limit(deps, 'default'), async (c) => {
    const name = c.req.param('name');
    for (const kind of ['image', 'text'] as const) {
      const found = (await horde.modelStatuses(kind)).find((model) => model.name === name);
      if (found) return reply(c, [found]);
    }
    if (horde.models.image(name)) {
      return reply(c, [{ name, count: 0, performance: 0, queued: 0, jobs: 0, eta: 10_000, type: 'image' }]);
    }
    throw new HttpError('NotFound', 'No worker serves this model and the model reference does not know it.');
  });

  app.get('/status/performance', limit(deps, 'default'), async (c) => {
    const [performance, image, text] = await Promise.all([
      horde.performance(),
      horde.imageTotals(),
      horde.textTotals(),
    ]);
    return reply(c, {
      ...performance,
      past_minute_megapixelsteps: Math.round(image.minute.ps / 1e6),
      past_minute_tokens: text.minute.tokens,
      queued_forms: 0,
      interrogator_count: 0,
      interrogator_thread_count: 0,
    });
  });

  app.get('/stats/img/totals', limit(deps, 'default'), async (c) => reply(c, await horde.imageTotals()));
  app.get('/stats/text/totals', limit(deps, 'default'), async (c) => reply(c, await horde.textTotals()));
  app.get('/stats/img/models', limit(deps, 'default'), async (c) => {
    const state = choice<ModelState>(c, 'model_state', ['known', 'custom', 'all'], 'known');
    return reply(c, await horde.modelStats('image', state));
  });
  app.get('/stats/text/models', limit(deps, 'default'), async (c) => {
    const state = choice<ModelState>(c, 'model_state', ['known', 'custom', 'all'], 'known');
    return reply(c, await horde.modelStats('text', state));
  });

  return app;
}
