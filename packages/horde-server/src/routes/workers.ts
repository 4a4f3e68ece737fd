/** Workers (spec §1.5): the online list, details by id or name, owner/moderator changes, deletion. */
import type { Horde, WorkerView } from '@hordekit/core';
import { Hono } from 'hono';
import { optionalKey, requireKey } from '../http/auth.js';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { reply } from '../http/respond.js';
import type { RouteDeps } from '../server.js';
import { choice, limit } from './shared.js';

function workerNotFound(): HttpError {
  return new HttpError(
    'WorkerNotFound',
    'No worker with this id exists. Worker ids are UUIDs; names work at /workers/name/{name}.',
  );
}

/** Moderators see `paused`; the owner's alias shows when the owner made their workers public (or to moderators). */
async function wireWorker(horde: Horde, view: WorkerView, moderator: boolean) {
  const { owner_id, paused, speed: _speed, ...rest } = view;
  const out: Record<string, unknown> = {
    ...rest,
    kudos_details: { ...view.kudos_details, interrogated: 0 },
    team: { id: null, name: null },
  };
  if (moderator) {
    out.paused = paused;
    out.suspicious = 0;
  }
  const owner = await horde.getAccount(owner_id);
  if (owner && (owner.publicWorkers || moderator)) {
    out.owner = `${owner.username}#${owner.id}`;
    out.messages = []; // worker messages are not a hordekit feature; the field keeps clients parsing
  }
  return out;
}

export function workerRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const app = new Hono<ServerEnv>();

  async function isModeratorKey(apiKey: string | undefined): Promise<boolean> {
    if (!apiKey) return false;
    const viewer = await horde.authenticate({ apiKey });
    return viewer.roles.moderator || horde.config.accounts.adminIds.includes(viewer.id);
  }

  async function viewById(id: string) {
    if (id.length > 64) throw workerNotFound();
    try {
      return await horde.getWorker(id);
    } catch (error) {
      throw (error as { rc?: string }).rc === 'WorkerNotFound' ? workerNotFound() : error;
    }
  }

  app.get('/workers', limit(deps, 'default'), async (c) => {
    const type = choice(c, 'type', ['image', 'text'] as const, 'image');
    const kind = c.req.query('type') ? type : undefined;
    const name = c.req.query('name');
    const moderator = await isModeratorKey(optionalKey(c));
    const views = (await horde.listWorkers(kind)).filter((view) => !name || view.name === name);
    return reply(c, await Promise.all(views.map((view) => wireWorker(horde, view, moderator))));
  });

  app.get('/workers/name/:name', limit(deps, 'workerDetails'), async (c) => {
    const name = c.req.param('name');
    const record = name.length <= 200 ? await horde.store.getWorkerByName(name) : undefined;
    if (!record) throw new HttpError('WorkerNotFound', 'No worker has this name.');
    const moderator = await isModeratorKey(optionalKey(c));
    return reply(c, await wireWorker(horde, await horde.getWorker(record.id), moderator));
  });

  app.get('/workers/:id', limit(deps, 'workerDetails'), async (c) => {
    const view = await viewById(c.req.param('id'));
    const moderator = await isModeratorKey(optionalKey(c));
    return reply(c, await wireWorker(horde, view, moderator));
  });

  app.put('/workers/:id', limit(deps, 'workerDetails'), async (c) => {
    const credentials = requireKey(c);
    const id = c.req.param('id');
    await viewById(id);
    const input = await readJson(c, deps.options.maxBodyBytes);
    return reply(c, await horde.modifyWorker(credentials, id, input as never));
  });

  app.delete('/workers/:id', limit(deps, 'workerDetails'), async (c) => {
    const credentials = requireKey(c);
    const id = c.req.param('id');
    await viewById(id);
    return reply(c, await horde.deleteWorker(credentials, id));
  });

  return app;
}
