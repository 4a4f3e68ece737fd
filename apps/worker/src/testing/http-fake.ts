/**
 * The common part of the fake backends: a real HTTP server on loopback that records every call and lets
 * a test make the next calls fail or hang. Each fake (A1111, ComfyUI, …) is a route table on top.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or undefined for an empty / non-JSON body (then see `raw`). */
  body: unknown;
  raw: Buffer;
}

export interface FakeReply {
  status?: number;
  /** Sent as JSON unless it is a Buffer (sent as is, with `contentType`). */
  body?: unknown;
  contentType?: string;
}

export type FakeRoute = (call: RecordedCall, url: URL) => FakeReply | Promise<FakeReply>;

export interface HttpFake {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly server: Server;
  /** Every request, in arrival order. */
  readonly calls: RecordedCall[];
  /** Calls whose path (without query) is `path`, optionally with this method. */
  callsTo(path: string, method?: string): RecordedCall[];
  /** The next `count` requests matching `path` (any, when omitted) answer `status` with an error body. */
  failNext(count: number, options?: { path?: string; status?: number }): void;
  /** While set, requests matching `path` (any, when omitted) never answer (until `close`). */
  hang(on: boolean, options?: { path?: string }): void;
  close(): Promise<void>;
}

/** Starts a fake on 127.0.0.1 with `routes` keyed by `METHOD /path` (path without query). */
export async function startHttpFake(routes: Record<string, FakeRoute>): Promise<HttpFake> {
  const calls: RecordedCall[] = [];
  const failures: { path?: string; status: number; remaining: number }[] = [];
  const hangs = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const matches = (pattern: string | undefined, pathname: string) =>
    pattern === undefined || pattern === '*' || pattern === pathname;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    let body: unknown;
    if (raw.length > 0 && String(request.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = undefined;
      }
    }
    const url = new URL(request.url ?? '/', 'http://fake');
    const call: RecordedCall = {
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
      body,
      raw,
    };
    calls.push(call);

    if ([...hangs].some((pattern) => matches(pattern, url.pathname))) {
      hanging.add(response);
      return;
    }
    const failure = failures.find((entry) => entry.remaining > 0 && matches(entry.path, url.pathname));
    if (failure) {
      failure.remaining -= 1;
      send(response, { status: failure.status, body: { error: 'injected failure', detail: 'fake backend' } });
      return;
    }
    const route = routes[`${call.method} ${url.pathname}`];
    if (!route) {
      send(response, { status: 404, body: { detail: 'Not Found' } });
      return;
    }
    try {
      send(response, await route(call, url));
    } catch (error) {
      send(response, {
        status: 500,
        body: { error: error instanceof Error ? error.message : String(error) },
      });
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    server,
    calls,
    callsTo: (path, method) =>
      calls.filter(
        (call) => call.path.split('?')[0] === path && (method === undefined || call.method === method),
      ),
    failNext: (count, options = {}) => {
      failures.push({ path: options.path, status: options.status ?? 500, remaining: count });
    },
    hang: (on, options = {}) => {
      const key = options.path ?? '*';
      if (on) hangs.add(key);
      else hangs.delete(key);
    },
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, reply: FakeReply): void {
  if (response.headersSent || response.destroyed) return;
  const status = reply.status ?? 200;
  if (Buffer.isBuffer(reply.body)) {
    response.writeHead(status, { 'content-type': reply.contentType ?? 'application/octet-stream' });
    response.end(reply.body);
    return;
  }
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(text);
}
