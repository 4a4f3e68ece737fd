import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HordeApi, HordeCallError, normaliseHordeUrl } from './horde-api.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
type Answer = (request: Received, response: ServerResponse) => void;

/** A tiny horde on loopback: each test sets `answer`; every request is kept in `received`. */
let server: Server;
let origin: string;
let answer: Answer;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks),
    };
    received.push(entry);
    answer(entry, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received.length = 0;
  answer = (_request, response) => json(response, 404, { message: 'no route' });
});

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function hordeApi(options: { url?: string; timeoutMs?: number } = {}) {
  return new HordeApi({
    url: options.url ?? origin,
    apiKey: 'secret-key',
    clientAgent: 'hordekit-worker:0.1.0:test',
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/** The HordeCallError `promise` rejects with (fails the test when it resolves or throws something else). */
async function callError(promise: Promise<unknown>): Promise<HordeCallError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HordeCallError);
  return error as HordeCallError;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('normaliseHordeUrl', () => {
  it('adds /api/v2 to a bare host', () => {
    expect(normaliseHordeUrl('http://h:7001')).toBe('http://h:7001/api/v2');
    expect(normaliseHordeUrl('https://horde.example/prefix')).toBe('https://horde.example/prefix/api/v2');
  });

  it('completes /api and /api/ to /api/v2', () => {
    expect(normaliseHordeUrl('http://h:7001/api')).toBe('http://h:7001/api/v2');
    expect(normaliseHordeUrl('http://h:7001/api/')).toBe('http://h:7001/api/v2');
  });

  it('keeps /api/v2 as it is', () => {
    expect(normaliseHordeUrl('http://h:7001/api/v2')).toBe('http://h:7001/api/v2');
  });

  it('drops trailing slashes and surrounding blanks', () => {
    expect(normaliseHordeUrl('http://h:7001/')).toBe('http://h:7001/api/v2');
    expect(normaliseHordeUrl('http://h:7001///')).toBe('http://h:7001/api/v2');
    expect(normaliseHordeUrl('http://h:7001/api/v2//')).toBe('http://h:7001/api/v2');
    expect(normaliseHordeUrl('  http://h:7001/api  ')).toBe('http://h:7001/api/v2');
  });

  it('is what HordeApi uses as its base', () => {
    expect(hordeApi({ url: 'http://h:7001/api/' }).base).toBe('http://h:7001/api/v2');
  });
});

describe('HordeApi: requests', () => {
  it('pops with the API key and client agent, and reads the answer leniently', async () => {
    answer = (_request, response) =>
      json(response, 200, {
        id: null,
        ids: ['job-1'],
        model: 'stable_diffusion',
        payload: { prompt: 'fox', seed: '1' },
        skipped: 'not a record',
        something_new: { from: 'a newer horde' },
      });
    const body = { name: 'fox-worker', models: ['stable_diffusion'], amount: 1 };
    const popped = await hordeApi().popImage(body);

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/api/v2/generate/pop');
    expect(request?.headers.apikey).toBe('secret-key');
    expect(request?.headers['client-agent']).toBe('hordekit-worker:0.1.0:test');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/json');
    expect(JSON.parse(String(request?.body))).toEqual(body);

    expect(popped.ids).toEqual(['job-1']);
    expect(popped.model).toBe('stable_diffusion');
    expect(popped.payload).toEqual({ prompt: 'fox', seed: '1' });
    // A wrongly typed `skipped` is ignored rather than failing the pop.
    expect(popped.skipped).toEqual({});
  });

  it('pops text at /generate/text/pop, defaulting ids and skipped', async () => {
    answer = (_request, response) => json(response, 200, { id: null });
    const popped = await hordeApi().popText({ name: 'w' });
    expect(received[0]?.url).toBe('/api/v2/generate/text/pop');
    expect(popped.ids).toEqual([]);
    expect(popped.skipped).toEqual({});
  });

  it('asks find_user with GET and no body', async () => {
    answer = (_request, response) => json(response, 200, { id: 7, username: 'fox#7' });
    const user = await hordeApi().findUser();
    expect(user).toMatchObject({ id: 7, username: 'fox#7', kudos: 0 });
    expect(received[0]?.method).toBe('GET');
    expect(received[0]?.url).toBe('/api/v2/find_user');
    expect(received[0]?.headers.apikey).toBe('secret-key');
    expect(received[0]?.headers['content-type']).toBeUndefined();
    expect(received[0]?.body.length).toBe(0);
  });

  it('returns the reward of a submit (0 when the horde leaves it out)', async () => {
    answer = (request, response) =>
      json(response, 200, request.url.endsWith('/text/submit') ? {} : { reward: 14.5 });
    const api = hordeApi();
    expect(await api.submitImage({ id: 'job-1', generation: 'R2', seed: 1, state: 'ok' })).toBe(14.5);
    expect(await api.submitText({ id: 'job-2', generation: 'hello', state: 'ok' })).toBe(0);
    expect(received.map((request) => request.url)).toEqual([
      '/api/v2/generate/submit',
      '/api/v2/generate/text/submit',
    ]);
  });
});

describe('HordeApi: failures', () => {
  it('maps 5xx to busy, with the horde’s message when it sent one', async () => {
    answer = (_request, response) => response.writeHead(503).end('<html>Service Unavailable</html>');
    const plain = await callError(hordeApi().submitImage({ id: 'j', generation: 'g', seed: 1, state: 'ok' }));
    expect(plain.failure).toBe('busy');
    expect(plain.status).toBe(503);
    expect(plain.message).toBe('POST /generate/submit answered 503');
    expect(plain.retryAfter).toBeUndefined();

    answer = (_request, response) => json(response, 500, { message: 'Internal Server Error', rc: 'Crash' });
    const withBody = await callError(hordeApi().findUser());
    expect(withBody.failure).toBe('busy');
    expect(withBody.message).toBe('Internal Server Error');
    expect(withBody.rc).toBe('Crash');
  });

  it('maps 429 to busy with Retry-After in seconds', async () => {
    answer = (_request, response) =>
      json(response, 429, { message: 'Too many requests' }, { 'retry-after': '7' });
    const error = await callError(hordeApi().popImage({}));
    expect(error.failure).toBe('busy');
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(7);
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    answer = (_request, response) =>
      json(response, 429, { message: 'Too many requests' }, { 'retry-after': inTenSeconds });
    const error = await callError(hordeApi().popImage({}));
    expect(error.retryAfter).toBeGreaterThan(8);
    expect(error.retryAfter).toBeLessThanOrEqual(10);
  });

  it('maps 408 to busy too', async () => {
    answer = (_request, response) => response.writeHead(408).end();
    expect((await callError(hordeApi().popImage({}))).failure).toBe('busy');
  });

  it('maps other 4xx to refused, keeping message and rc', async () => {
    answer = (_request, response) =>
      json(response, 403, { message: 'Wrong credentials to submit as this worker.', rc: 'WrongCredentials' });
    const error = await callError(hordeApi().popImage({}));
    expect(error.failure).toBe('refused');
    expect(error.status).toBe(403);
    expect(error.rc).toBe('WrongCredentials');
    expect(error.message).toBe('Wrong credentials to submit as this worker.');
  });

  it('refuses without an rc when the 4xx body is not JSON', async () => {
    answer = (_request, response) => response.writeHead(400).end('bad request');
    const error = await callError(hordeApi().popText({}));
    expect(error.failure).toBe('refused');
    expect(error.rc).toBeUndefined();
    expect(error.message).toBe('POST /generate/text/pop answered 400');
  });

  it('reports a refused connection as a network failure that says so', async () => {
    const port = await closedPort();
    const error = await callError(hordeApi({ url: `http://127.0.0.1:${port}` }).popImage({}));
    expect(error.failure).toBe('network');
    expect(error.status).toBeUndefined();
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/connection refused/);
  });

  it('reports a horde that does not answer in time as a network failure', async () => {
    answer = () => undefined; // never answers
    const error = await callError(hordeApi({ timeoutMs: 50 }).findUser());
    expect(error.failure).toBe('network');
    expect(error.message).toMatch(/no answer within 0\.05 s/);
  });

  it('calls a 200 with the wrong shape malformed', async () => {
    answer = (_request, response) => json(response, 200, { ids: 'job-1' });
    const wrongType = await callError(hordeApi().popImage({}));
    expect(wrongType.failure).toBe('malformed');
    expect(wrongType.status).toBe(200);
    expect(wrongType.message).toMatch(/^POST \/generate\/pop: unexpected answer \(/);

    answer = (_request, response) => json(response, 200, { id: 'seven', username: 'fox' });
    expect((await callError(hordeApi().findUser())).failure).toBe('malformed');

    answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    expect((await callError(hordeApi().popText({}))).failure).toBe('malformed');
  });
});

describe('HordeApi: upload and download', () => {
  const image = Buffer.from('RIFF....WEBPVP8 fake image');

  it('PUTs the image to the signed URL, without the API key', async () => {
    answer = (_request, response) => response.writeHead(200).end();
    await hordeApi().upload(`${origin}/r2/job-1.webp?signature=abc`, image);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe('PUT');
    expect(request?.url).toBe('/r2/job-1.webp?signature=abc');
    expect(request?.headers['content-type']).toBe('image/webp');
    expect(request?.headers.apikey).toBeUndefined();
    expect(request?.body.equals(image)).toBe(true);
  });

  it('accepts only 200 from an upload: 201 is an error', async () => {
    answer = (_request, response) => response.writeHead(201).end();
    const created = await callError(hordeApi().upload(`${origin}/r2/job-1.webp`, image));
    expect(created.failure).toBe('refused');
    expect(created.status).toBe(201);
    expect(created.message).toBe('upload answered 201');

    answer = (_request, response) => response.writeHead(503).end();
    const unavailable = await callError(hordeApi().upload(`${origin}/r2/job-1.webp`, image));
    expect(unavailable.failure).toBe('busy');
  });

  it('downloads a source image; a 404 is refused', async () => {
    answer = (request, response) => {
      if (request.url === '/source.png') response.writeHead(200, { 'content-type': 'image/png' }).end(image);
      else response.writeHead(404).end();
    };
    const bytes = await hordeApi().download(`${origin}/source.png`);
    expect(bytes.equals(image)).toBe(true);
    const missing = await callError(hordeApi().download(`${origin}/missing.png`));
    expect(missing.failure).toBe('refused');
    expect(missing.status).toBe(404);
    expect(missing.message).toBe('download answered 404');
  });
});
