/** JSON answers: every route replies through here so that `X-Fields` applies everywhere. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { applyFieldMask, parseFieldMask } from './fields.js';

export function reply(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  const mask = parseFieldMask(c.req.header('x-fields'));
  return c.json(mask ? applyFieldMask(body, mask) : body, status);
}
