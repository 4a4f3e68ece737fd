/** Text requests and text workers (spec §1.2): async, status (GET, DELETE), pop, submit. */
import type { RequestRecord } from '@hordekit/core';
import { Hono } from 'hono';
import { requireKey } from '../http/auth.js';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { reply } from '../http/respond.js';
import type { RouteDeps } from '../server.js';
import { asyncAnswer, limit, requestMeta, requireRequestOfKind } from './shared.js';

export function textRoutes(deps: RouteDeps) {
  const { horde } = deps;
  const app = new Hono<ServerEnv>();
  const body = (c: Parameters<typeof readJson>[0]) => readJson(c, deps.options.maxBodyBytes);

  async function textStatus(request: RequestRecord, cancel: boolean) {
    const status = cancel ? await horde.cancelRequest(request.id) : await horde.requestStatus(request.id);
    const { generations, ...check } = status;
    return {
      ...check,
      generations: generations.map((generation) => ({
        text: generation.generation,
        seed: Number(generation.seed) || 0,
        id: generation.id,
        worker_id: generation.worker_id,
        worker_name: generation.worker_name,
        model: generation.model,
        state: generation.state,
        gen_metadata: generation.gen_metadata,
      })),
    };
  }

  app.post('/generate/text/async', limit(deps, 'generate'), async (c) => {
    const credentials = requireKey(c);
    const result = await horde.generateText(credentials, await body(c), requestMeta(c));
    return asyncAnswer(c, result);
  });

  app.get('/generate/text/status/:id', limit(deps, 'textStatus'), async (c) => {
    const request = await requireRequestOfKind(deps, c.req.param('id'), 'text');
    return reply(c, await textStatus(request, false));
  });

  app.delete('/generate/text/status/:id', limit(deps, 'textStatus'), async (c) => {
    const request = await requireRequestOfKind(deps, c.req.param('id'), 'text');
    return reply(c, await textStatus(request, true));
  });

  app.post('/generate/text/pop', limit(deps, 'worker'), async (c) => {
    const credentials = requireKey(c);
    const result = await horde.popText(credentials, await body(c));
    deps.metrics?.countPop('text', result.job !== null);
    const job = result.job;
    if (!job) {
      return reply(c, {
        id: null,
        ids: [],
        model: null,
        ttl: null,
        payload: {},
        skipped: result.skipped,
        messages: [],
      });
    }
    return reply(c, {
      id: job.id,
      ids: job.ids,
      model: job.model,
      ttl: job.ttl,
      payload: job.payload,
      skipped: {},
      messages: [],
    });
  });

  app.post('/generate/text/submit', limit(deps, 'worker'), async (c) => {
    const credentials = requireKey(c);
    const result = await horde.submitText(credentials, await body(c));
    return reply(c, { reward: result.reward });
  });

  return app;
}
