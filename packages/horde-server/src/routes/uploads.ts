/**
 * The targets of the signed image URLs: `PUT /api/v2/uploads/{jobId}.webp` takes a worker's raw WebP
 * (no `apikey`; answers exactly 200, and a retry simply overwrites), `GET /api/v2/images/{key}` serves
 * results and source images to whoever holds a valid link.
 */
import { Hono } from 'hono';
import { isValidBlobKey } from '../blobs/types.js';
import type { ServerEnv } from '../http/env.js';
import { HttpError } from '../http/errors.js';
import type { RouteDeps } from '../server.js';
import { limit } from './shared.js';

const RESULT_KEY = /^[0-9a-f-]{36}\.webp$/;

export function uploadRoutes(deps: RouteDeps) {
  const { images, blobs } = deps;
  const app = new Hono<ServerEnv>();

  app.put('/uploads/:key', limit(deps, 'worker'), async (c) => {
    const key = c.req.param('key');
    if (!RESULT_KEY.test(key)) throw new HttpError('NotFound', 'There is no upload slot with this name.');
    images.verify('PUT', key, c.req.query('expires'), c.req.query('sig'));
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > deps.options.maxUploadBytes) throw tooLarge(deps.options.maxUploadBytes);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > deps.options.maxUploadBytes) throw tooLarge(deps.options.maxUploadBytes);
    if (bytes.byteLength === 0) throw new HttpError('BadRequest', 'The upload is empty: PUT the WebP bytes.');
    await blobs.put(key, bytes);
    return c.body(null, 200);
  });

  app.get('/images/:key', limit(deps, 'check'), async (c) => {
    const key = c.req.param('key');
    if (!isValidBlobKey(key)) throw new HttpError('NotFound', 'There is no image with this name.');
    images.verify('GET', key, c.req.query('expires'), c.req.query('sig'));
    const bytes = await blobs.get(key);
    if (!bytes)
      throw new HttpError('NotFound', 'This image is gone: images are kept until their request expires.');
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'image/webp',
      'Cache-Control': 'private, max-age=1800',
    });
  });

  return app;
}

function tooLarge(max: number): HttpError {
  return new HttpError(
    'PayloadTooLarge',
    `The image is larger than this horde accepts (${Math.round(max / 1_048_576)} MiB).`,
  );
}
