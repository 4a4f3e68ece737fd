/** CORS exactly as the AI Horde sends it (spec §0.1), and the `Horde-Node` header naming this node. */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

const ALLOWED_HEADERS = [
  'Accept',
  'Content-Type',
  'Content-Length',
  'Accept-Encoding',
  'X-CSRF-Token',
  'apikey',
  'Client-Agent',
  'client_agent',
  'X-Fields',
  'X-Forwarded-For',
  'Proxied-For',
  'Proxy-Authorization',
  'Idempotency-Key',
];

export function commonHeaders(node: string, version: string): MiddlewareHandler {
  const corsHandler = cors({
    origin: '*',
    allowMethods: ['POST', 'GET', 'OPTIONS', 'PUT', 'DELETE', 'PATCH'],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: [
      'Horde-Node',
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ],
    maxAge: 600,
  });
  return async (c, next) => {
    const url = new URL(c.req.url);
    c.header('Horde-Node', `${node}:${url.port || (url.protocol === 'https:' ? '443' : '80')}:${version}`);
    return corsHandler(c, next);
  };
}
