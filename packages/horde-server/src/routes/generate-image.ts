/**
 * Image requests and image workers (spec §1.1): async, check, status (GET, DELETE), pop, submit. The
 * engine does the work; this file maps bodies and answers to the wire, and moves images through the blob
 * store (upload URLs on pop, base64 submits stored, URLs or base64 in status).
 */
import type { Credentials, RequestRecord } from '@hordekit/core';
import { Hono } from 'hono';
import { requireKey } from '../http/auth.js';
import { readJson } from '../http/body.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import { reply } from '../http/respond.js';
import { checkSourceImages } from '../http/source-images.js';
import { decodeBase64Image, resultKey } from '../images.js';
import type { RouteDeps } from '../server.js';
import { asyncAnswer, limit, looksLikeId, originOf, requestMeta, requireRequestOfKind } from './shared.js';

/** Pop answer when nothing matched (spec §1.1): `id: null`, `ids: []`, the skip counts, other keys null. */
export function emptyPop(skipped: Record<string, number>) {
  return {
    id: null,
    ids: [],
    model: null,
    ttl: null,
    payload: {},
    skipped,
    messages: [],
    source_image: null,
    source_mask: null,
    source_processing: 'img2img',
    extra_source_images: null,
    r2_upload: null,
    r2_uploads: null,
  };
}

export function imageRoutes(deps: RouteDeps) {
  const { horde, images } = deps;
  const app = new Hono<ServerEnv>();
  const body = (c: Parameters<typeof readJson>[0]) => readJson(c, deps.options.maxBodyBytes);

  async function imageStatus(origin: string, request: RequestRecord, cancel: boolean) {
    const status = cancel ? await horde.cancelRequest(request.id) : await horde.requestStatus(request.id);
    const r2 = (request.body as { r2?: boolean }).r2 !== false;
    const { generations, ...check } = status;
    return {
      ...check,
      generations: await Promise.all(
        generations.map(async (generation) => ({
          img: await images.imageFor(origin, generation.id, generation.generation, r2),
          seed: generation.seed,
          id: generation.id,
          worker_id: generation.worker_id,
          worker_name: generation.worker_name,
          model: generation.model,
          state: generation.state,
          censored: generation.censored,
          gen_metadata: generation.gen_metadata,
        })),
      ),
      shared: false,
    };
  }

  app.post('/generate/async', limit(deps, 'generate'), async (c) => {
    const credentials = requireKey(c);
    const input = await body(c);
    checkSourceImages(input);
    const result = await horde.generateImage(credentials, input, requestMeta(c));
    return asyncAnswer(c, result);
  });

  app.get('/generate/check/:id', limit(deps, 'check'), async (c) => {
    const id = c.req.param('id');
    await requireRequestOfKind(deps, id, 'image');
    return reply(c, await horde.checkRequest(id));
  });

  app.get('/generate/status/:id', limit(deps, 'status'), async (c) => {
    const request = await requireRequestOfKind(deps, c.req.param('id'), 'image');
    return reply(c, await imageStatus(originOf(c), request, false));
  });

  app.delete('/generate/status/:id', limit(deps, 'status'), async (c) => {
    const request = await requireRequestOfKind(deps, c.req.param('id'), 'image');
    return reply(c, await imageStatus(originOf(c), request, true));
  });

  app.post('/generate/pop', limit(deps, 'worker'), async (c) => {
    const credentials = requireKey(c);
    const input = await body(c);
    const result = await horde.popImage(credentials, input);
    deps.metrics?.countPop('image', result.job !== null);
    const job = result.job;
    if (!job) return reply(c, emptyPop(result.skipped));
    const agent = typeof (input as { bridge_agent?: unknown }).bridge_agent === 'string';
    const bridgeAgent = agent ? (input as { bridge_agent: string }).bridge_agent : 'unknown:0:unknown';
    return reply(c, {
      id: job.id,
      ids: job.ids,
      model: job.model,
      ttl: job.ttl,
      payload: job.payload,
      skipped: {},
      messages: [],
      ...(await images.popFields(originOf(c), job, bridgeAgent)),
    });
  });

  app.post('/generate/submit', limit(deps, 'worker'), async (c) => {
    const credentials = requireKey(c);
    const input = await body(c);
    const submitted = await storeBase64Result(deps, credentials, input);
    const result = await horde.submitImage(credentials, submitted);
    return reply(c, { reward: result.reward });
  });

  return app;
}

/**
 * A legacy worker sends the WebP as base64 in `generation`: store it like an upload and hand the engine
 * `"R2"`. Only the job's own worker may do that (others get the engine's `WrongCredentials`), and only
 * while the job is in flight, so a late or foreign submit can never overwrite a delivered image.
 */
async function storeBase64Result(deps: RouteDeps, credentials: Credentials, input: unknown) {
  if (!input || typeof input !== 'object') return input;
  const fields = input as { id?: unknown; generation?: unknown; state?: unknown };
  if (typeof fields.generation !== 'string' || fields.generation === 'R2') return input;
  if (fields.state === 'faulted' || typeof fields.id !== 'string' || !looksLikeId(fields.id)) return input;
  const job = await deps.horde.store.getJob(fields.id);
  if (job?.state !== 'processing') return input;
  const [account, worker] = await Promise.all([
    deps.horde.authenticate(credentials),
    deps.horde.store.getWorker(job.workerId),
  ]);
  if (!worker || worker.ownerId !== account.id) return input;
  const bytes = decodeBase64Image(fields.generation);
  if (!bytes) {
    throw new HttpError(
      'BadRequest',
      'An image `generation` must be "R2" (after a PUT to the r2_upload URL) or the WebP image as base64.',
    );
  }
  await deps.blobs.put(resultKey(job.id), bytes);
  return { ...fields, generation: 'R2' };
}
