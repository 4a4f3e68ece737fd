/**
 * CORS exactly as the AI Horde sends it (spec §0.1), and the `Horde-Node` header naming this node.
 *
 * Not `hono/cors`: it sets its headers on `c.res` before the route runs, and replacing that placeholder
 * response afterwards makes `@hono/node-server` build a full web `Response` for every request — measured
 * at about a sixth of the server's time under load. `c.header()` here lands in the prepared headers the
 * route's answer is built with.
 */
import type { MiddlewareHandler } from 'hono';

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
].join(', ');
const ALLOWED_METHODS = 'POST, GET, OPTIONS, PUT, DELETE, PATCH';
const EXPOSED_HEADERS =
  'Horde-Node, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset';

export function commonHeaders(node: string, version: string): MiddlewareHandler {
  // `<hostname>:<port>:<version>`; the port is the one requests arrive on, the same for every request.
  let hordeNode: string | undefined;
  return async (c, next) => {
    if (hordeNode === undefined) {
      const url = new URL(c.req.url);
      hordeNode = `${node}:${url.port || (url.protocol === 'https:' ? '443' : '80')}:${version}`;
    }
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      return new Response(null, {
        status: 204,
        headers: {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': ALLOWED_METHODS,
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': '600',
          'Horde-Node': hordeNode,
        },
      });
    }
    c.header('Access-Control-Allow-Origin', '*');
    c.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    c.header('Horde-Node', hordeNode);
    return next();
  };
}
