/**
 * A loopback HTTP proxy in front of a horde that can lose submits: `before` answers 502 without
 * forwarding (the horde never saw it), `after` forwards, lets the horde process it, and then answers 502
 * anyway (the worker never learns it got through — the case that tempts a worker to submit twice).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type LossMode = 'before' | 'after';

export interface FlakyProxy {
  url: string;
  /** The next `count` submits (image or text) are lost in this way. */
  loseSubmits(count: number, mode: LossMode): void;
  /** Submits the horde actually received, in order, with the status it answered. */
  readonly forwardedSubmits: { path: string; status: number; body: string }[];
  close(): Promise<void>;
}

const SUBMIT_PATH = /\/api\/v2\/generate\/(text\/)?submit$/;

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const losses: LossMode[] = [];
  const forwardedSubmits: FlakyProxy['forwardedSubmits'] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = request.url ?? '/';
    const isSubmit = request.method === 'POST' && SUBMIT_PATH.test(path.split('?')[0] ?? '');
    const loss = isSubmit ? losses.shift() : undefined;
    if (loss === 'before') {
      reply(response, 502, { message: 'proxy: upstream unavailable (injected, not forwarded)' });
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name))
        headers[name] = value;
    }
    const upstream = await fetch(`${target}${path}`, {
      method: request.method,
      headers,
      body: ['GET', 'HEAD'].includes(request.method ?? 'GET') ? undefined : body,
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (isSubmit) forwardedSubmits.push({ path, status: upstream.status, body: answer.toString('utf8') });
    if (loss === 'after') {
      reply(response, 502, { message: 'proxy: answer lost (injected, the horde processed it)' });
      return;
    }
    response.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
    });
    response.end(answer);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => reply(response, 502, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    loseSubmits: (count, mode) => {
      for (let index = 0; index < count; index += 1) losses.push(mode);
    },
    forwardedSubmits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
