/**
 * `npm run draw` against a real community horde on loopback: the test plays the worker over raw HTTP (pop,
 * PUT the WebP to its upload URL, submit) while `draw` queues, polls and saves. Each test asks for its own
 * model so a leftover request never reaches another test's worker.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import {
  apiRoot,
  CLIENT_AGENT,
  DrawError,
  type DrawIo,
  describeCheck,
  draw,
  outputPaths,
  parseDrawArgs,
  requestBody,
  slugify,
  UsageError,
  webpSize,
} from '@hordekit/draw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ImagePopAnswer, regenPopBody, TINY_WEBP, upload, waitUntil } from '../support/horde-http.js';
import { startTestServer, type TestAccount, type TestServer } from '../support/server.js';

const run = promisify(execFile);

let ts: TestServer;
let gpu: TestAccount;
let artist: TestAccount;
let dir: string;

beforeAll(async () => {
  ts = await startTestServer();
  gpu = await ts.user('draw_gpu', 0);
  artist = await ts.user('artist', 5_000);
});

afterAll(async () => {
  await ts?.close();
});

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'hordekit-draw-'));
  return dir;
}

/** A WebP header (extended format, `VP8X`) of the given size, with `tag` appended so each image differs. */
function fakeWebp(width: number, height: number, tag: string): Buffer {
  const header = Buffer.alloc(30);
  header.write('RIFF', 0, 'latin1');
  header.write('WEBP', 8, 'latin1');
  header.write('VP8X', 12, 'latin1');
  header.writeUInt32LE(10, 16);
  header.writeUIntLE(width - 1, 24, 3);
  header.writeUIntLE(height - 1, 27, 3);
  const bytes = Buffer.concat([header, Buffer.from(tag)]);
  bytes.writeUInt32LE(bytes.length - 8, 4);
  return bytes;
}

/** Collects what `draw` prints. */
function output() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream, text: () => text };
}

interface WorkedJob {
  pop: ImagePopAnswer;
  images: Buffer[];
}

/**
 * A reGen-shaped worker serving `model`: pops until a job comes, uploads one image per id and submits
 * `R2` with the seed it was given (or `state` faulted).
 */
async function work(
  name: string,
  model: string,
  images: Buffer[],
  state: 'ok' | 'faulted' = 'ok',
): Promise<WorkedJob> {
  const pop = await waitUntil(async () => {
    const res = await ts.call('POST', '/generate/pop', {
      apikey: gpu.apiKey,
      body: regenPopBody(name, [model]),
    });
    expect(res.status).toBe(200);
    return res.body.id ? (res.body as ImagePopAnswer) : undefined;
  }, 10_000);
  const seed = Number(pop.payload.seed) || 0;
  for (const [index, id] of pop.ids.entries()) {
    const image = images[index] ?? TINY_WEBP;
    if (state === 'ok') expect(await upload(pop.r2_uploads[index]!, image)).toBe(200);
    const res = await ts.call('POST', '/generate/submit', {
      apikey: gpu.apiKey,
      body: { id, generation: 'R2', seed: seed + index, state },
    });
    expect(res.status).toBe(200);
  }
  return { pop, images };
}

/** `draw` with the command line `argv` against the test horde, writing into a temp dir. */
function drawWith(argv: string[], io: Partial<DrawIo> = {}) {
  const parsed = parseDrawArgs([...argv, '--horde', ts.origin]);
  if (parsed.kind !== 'draw') throw new Error('expected a draw command');
  const out = output();
  const cwd = io.cwd ?? tmp();
  const result = draw(parsed.options, { stdout: out.stream, cwd, pollIntervalMs: 50, ...io });
  return { result, out, cwd, options: parsed.options };
}

function requestIdIn(text: string): string {
  const id = /request (\S+) queued/.exec(text)?.[1];
  if (!id) throw new Error(`no request id in: ${text}`);
  return id;
}

describe('draw against a community horde', () => {
  it('queues the request as given, waits, and saves exactly what the worker uploaded', async () => {
    const image = fakeWebp(576, 640, 'lighthouse');
    const { result, out, cwd } = drawWith([
      'a lighthouse at dusk',
      '--negative',
      'blurry',
      '--model',
      'Deliberate',
      '--width',
      '576',
      '--height',
      '640',
      '--steps',
      '12',
      '--cfg',
      '6.5',
      '--sampler',
      'k_euler',
      '--seed',
      '1234',
      '--key',
      artist.apiKey,
      '--out',
      'lighthouse.webp',
    ]);
    const worked = await work('draw-gpu', 'Deliberate', [image]);
    const paths = await result;

    expect(paths).toEqual([join(cwd, 'lighthouse.webp')]);
    expect(readFileSync(paths[0]!)).toEqual(image);
    // What the worker was handed is what the user asked for.
    expect(worked.pop.model).toBe('Deliberate');
    expect(worked.pop.payload).toMatchObject({
      prompt: 'a lighthouse at dusk ### blurry',
      width: 576,
      height: 640,
      ddim_steps: 12,
      cfg_scale: 6.5,
      sampler_name: 'k_euler',
      seed: '1234',
      n_iter: 1,
    });
    // The request the horde stored: the account, the models, r2 and the client agent.
    const id = requestIdIn(out.text());
    const request = await ts.horde.store.getRequest(id);
    expect(request?.accountId).toBe(artist.id);
    expect(request?.body).toMatchObject({ models: ['Deliberate'], nsfw: false, r2: true });
    expect(request?.meta.clientAgent).toBe(CLIENT_AGENT);
    expect(CLIENT_AGENT).toMatch(/^hordekit-draw:\d+\.\d+\.\d+:https:\/\/github\.com\/hordekit$/);
    const status = await ts.call('GET', `/generate/status/${id}`);
    expect(status.body).toMatchObject({ done: true, finished: 1 });

    expect(out.text()).toContain(`request ${id} queued on ${ts.api}`);
    expect(out.text()).toContain(
      'saved lighthouse.webp (576×640, seed 1234, model Deliberate, worker draw-gpu)',
    );
    expect(out.text()).toMatch(/done in [\d.]+ s, \d+(\.\d+)? kudos/);
  });

  it('saves several images as name-1, name-2 with --count 2', async () => {
    const images = [fakeWebp(512, 512, 'first'), fakeWebp(512, 512, 'second')];
    const { result, out, cwd } = drawWith([
      'two boats',
      '-n',
      '2',
      '--model',
      'Dreamshaper',
      '--key',
      artist.apiKey,
      '--out',
      'boats/boat.webp',
    ]);
    // The horde may hand both jobs to one pop (a batch) or one per pop.
    const first = await work('draw-gpu', 'Dreamshaper', images);
    if (first.pop.ids.length === 1) await work('draw-gpu', 'Dreamshaper', [images[1]!]);
    const paths = await result;

    expect(paths).toEqual([join(cwd, 'boats', 'boat-1.webp'), join(cwd, 'boats', 'boat-2.webp')]);
    const saved = paths.map((path) => readFileSync(path).toString('latin1')).sort();
    expect(saved).toEqual(images.map((image) => image.toString('latin1')).sort());
    expect(out.text()).toContain('saved boats/boat-1.webp (512×512');
    expect(out.text()).toContain('saved boats/boat-2.webp (512×512');
  });

  it('works anonymously by default for a small request, naming the file after the prompt', async () => {
    const { result, out, cwd } = drawWith(['A red Fox!', '--model', 'Anything Diffusion', '--steps', '10']);
    await work('draw-gpu', 'Anything Diffusion', [TINY_WEBP]);
    const paths = await result;
    expect(paths).toEqual([join(cwd, 'a-red-fox.webp')]);
    expect(readFileSync(paths[0]!)).toEqual(TINY_WEBP);
    expect(out.text()).toContain('saved a-red-fox.webp (1×1, seed ');
    const request = await ts.horde.store.getRequest(requestIdIn(out.text()));
    expect(request?.accountId).toBe(0);
  });

  it('shows a live line on a terminal: queue position and time waited', async () => {
    let text = '';
    const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    terminal.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    const { result } = drawWith(['a quiet harbour', '--model', 'Realistic Vision'], { stdout: terminal });
    await waitUntil(async () => (text.includes('queued #') ? true : undefined));
    await work('draw-gpu', 'Realistic Vision', [TINY_WEBP]);
    await result;
    expect(text).toMatch(/queued #\d+ (· ETA \d+ s )?· [\d.]+ s/);
    expect(text).toContain('saved a-quiet-harbour.webp');
    // log-update redraws in place with erase-line escapes.
    expect(text).toContain('\u001B[2K');
  });

  it('explains a horde refusal (KudosUpfront) and fails with exit code 1', async () => {
    const broke = await ts.user('broke', 0);
    const { result } = drawWith(['a castle', '--steps', '60', '--key', broke.apiKey]);
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DrawError);
    expect((error as DrawError).exitCode).toBe(1);
    expect((error as DrawError).message).toMatch(/^horde refused the request \(KudosUpfront\): .*kudos/);
  });

  it("passes any sampler name on and explains the horde's answer to an unknown one", async () => {
    const { result } = drawWith(['a castle', '--sampler', 'euler']);
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DrawError);
    expect((error as DrawError).exitCode).toBe(1);
    expect((error as DrawError).message).toMatch(
      /^horde refused the request \(ValidationError\): Input payload validation failed \(params\.sampler_name: must be one of: k_lms, /,
    );
  });

  it('explains an unknown API key', async () => {
    const { result } = drawWith(['a castle', '--key', 'not-a-real-key']);
    await expect(result).rejects.toThrow(/^horde refused the request \(InvalidAPIKey\)/);
  });

  it('explains a request no worker can serve, then gives up at the timeout and cancels it', async () => {
    const { result, out } = drawWith(['a castle', '--model', 'No Such Model', '--timeout', '0.5']);
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DrawError);
    expect((error as DrawError).exitCode).toBe(1);
    expect((error as DrawError).message).toBe(
      'gave up after 0.5 s without the images: no worker currently serves this request (model/size)',
    );
    // Said once: the async answer's warning, which the checks then confirm.
    expect(out.text().split('warning: no worker currently serves this request (model/size)')).toHaveLength(2);
    const id = requestIdIn(out.text());
    expect(out.text()).toContain(`cancelled request ${id} on the horde`);
    // DELETE /generate/status cancelled it: nothing is left to hand out.
    const check = await ts.call('GET', `/generate/check/${id}`);
    expect(check.body).toMatchObject({ done: true, waiting: 0, finished: 0 });
  });

  it('cancels the request on the horde when aborted (Ctrl-C) and fails with 130', async () => {
    const controller = new AbortController();
    const { result, out } = drawWith(['a storm', '--model', 'Epic Diffusion'], { signal: controller.signal });
    await waitUntil(async () => (out.text().includes('queued') ? true : undefined));
    const id = requestIdIn(out.text());
    controller.abort();
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DrawError);
    expect((error as DrawError).exitCode).toBe(130);
    expect((error as DrawError).message).toBe('cancelled (the request was withdrawn from the horde)');
    expect(out.text()).toContain(`cancelled request ${id} on the horde`);
    const check = await ts.call('GET', `/generate/check/${id}`);
    expect(check.body).toMatchObject({ done: true, waiting: 0 });
    // A worker asking for that model now gets nothing.
    const pop = await ts.call('POST', '/generate/pop', {
      apikey: gpu.apiKey,
      body: regenPopBody('draw-gpu', ['Epic Diffusion']),
    });
    expect(pop.body.id).toBeNull();
  });

  it('reports a restarted job and goes on waiting', async () => {
    const { result, out } = drawWith([
      'a bridge',
      '--model',
      'AlbedoBase XL (SDXL)',
      '--width',
      '1024',
      '--height',
      '1024',
    ]);
    await work('draw-gpu', 'AlbedoBase XL (SDXL)', [], 'faulted');
    await waitUntil(async () => (out.text().includes('restarted') ? true : undefined));
    await work('draw-gpu', 'AlbedoBase XL (SDXL)', [TINY_WEBP]);
    await expect(result).resolves.toHaveLength(1);
    expect(out.text()).toContain('warning: a worker gave up on a job; it is back in the queue (restarted 1)');
  });

  it('reports a horde it cannot reach', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const parsed = parseDrawArgs(['a castle', '--horde', `http://127.0.0.1:${port}`]);
    if (parsed.kind !== 'draw') throw new Error('expected a draw command');
    const out = output();
    await expect(draw(parsed.options, { stdout: out.stream, cwd: tmp() })).rejects.toThrow(
      `could not reach the horde at http://127.0.0.1:${port}/api/v2 (ECONNREFUSED)`,
    );
  });
});

describe('the draw command line', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run('node', ['--import', 'tsx', 'apps/draw/src/main.ts', ...args], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, ...env },
    }).then(
      (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );

  it('exits 2 with a clear message on bad usage, 0 on --help', async () => {
    const bad = await cli(['a castle', '--width', '500']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('draw: --width must be a multiple of 64');
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run draw -- "<prompt>" [options]');
  });

  it('exits 1 with the horde’s explanation, reading the horde and key from the environment', async () => {
    const broke = await ts.user('broke_cli', 0);
    const res = await cli(['a castle', '--steps', '60'], {
      HORDE_URL: `${ts.origin}/api/`,
      HORDE_API_KEY: broke.apiKey,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/draw: horde refused the request \(KudosUpfront\): /);
  });
});

describe('parseDrawArgs', () => {
  const options = (argv: string[], env = {}) => {
    const parsed = parseDrawArgs(argv, env);
    if (parsed.kind !== 'draw') throw new Error('expected a draw command');
    return parsed.options;
  };

  it('applies defaults: 512×512, 30 steps, one image, any model, the local horde, anonymous', () => {
    expect(options(['a', 'lighthouse'])).toEqual({
      prompt: 'a lighthouse',
      models: [],
      width: 512,
      height: 512,
      steps: 30,
      count: 1,
      nsfw: false,
      timeoutSeconds: 600,
      api: 'http://127.0.0.1:7001/api/v2',
      apiKey: '0000000000',
    });
  });

  it('reads every option, repeatable models and the short -n', () => {
    const parsed = options([
      'boats',
      '--negative',
      'fog',
      '--model',
      'A',
      '--model',
      'B',
      '--width',
      '768',
      '--height',
      '1024',
      '--steps',
      '20',
      '--cfg',
      '7.25',
      '--sampler',
      'k_dpmpp_2m',
      '--seed',
      'abc',
      '-n',
      '3',
      '--nsfw',
      '--out',
      'x.webp',
      '--timeout',
      '90',
      '--key',
      'k',
    ]);
    expect(parsed).toMatchObject({
      negative: 'fog',
      models: ['A', 'B'],
      width: 768,
      height: 1024,
      steps: 20,
      cfg: 7.25,
      sampler: 'k_dpmpp_2m',
      seed: 'abc',
      count: 3,
      nsfw: true,
      out: 'x.webp',
      timeoutSeconds: 90,
      apiKey: 'k',
    });
    expect(requestBody(parsed)).toEqual({
      prompt: 'boats ### fog',
      params: {
        width: 768,
        height: 1024,
        steps: 20,
        n: 3,
        cfg_scale: 7.25,
        sampler_name: 'k_dpmpp_2m',
        seed: 'abc',
      },
      models: ['A', 'B'],
      nsfw: true,
      r2: true,
    });
  });

  it('takes the horde and key from the environment; flags win', () => {
    const env = { HORDE_URL: 'https://horde.example/api/v2/', HORDE_API_KEY: 'env-key' };
    expect(options(['x'], env)).toMatchObject({ api: 'https://horde.example/api/v2', apiKey: 'env-key' });
    expect(options(['x', '--horde', 'http://h:1', '--key', 'flag'], env)).toMatchObject({
      api: 'http://h:1/api/v2',
      apiKey: 'flag',
    });
  });

  it('names the environment variable when HORDE_URL is wrong', () => {
    expect(() => parseDrawArgs(['x'], { HORDE_URL: 'localhost:7001' })).toThrow(
      'HORDE_URL: "localhost:7001" must start with http:// or https://',
    );
  });

  it('accepts a horde base with or without /api or /api/v2', () => {
    for (const base of ['http://h:7001', 'http://h:7001/', 'http://h:7001/api', 'http://h:7001/api/v2/']) {
      expect(apiRoot(base)).toBe('http://h:7001/api/v2');
    }
    expect(apiRoot('https://example.com/horde/api')).toBe('https://example.com/horde/api/v2');
  });

  it('returns help for --help and -h', () => {
    expect(parseDrawArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseDrawArgs(['x', '-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [[], /say what to draw/],
    [['x', '--width', '500'], /--width must be a multiple of 64/],
    [['x', '--height', '32'], /--height must be at least 64/],
    [['x', '--width', 'wide'], /--width must be a number/],
    [['x', '--steps', '0'], /--steps must be at least 1/],
    [['x', '--steps', '2.5'], /--steps must be a whole number/],
    [['x', '-n', '21'], /--count must be at most 20/],
    [['x', '--cfg', '7.125'], /--cfg takes at most two decimals/],
    [['x', '--cfg', '101'], /--cfg must be between 0 and 100/],
    [['x', '--sampler', ''], /--sampler must not be empty/],
    [['x', '--timeout', '0'], /--timeout must be more than 0 seconds/],
    [['x', '--horde', 'ftp://h'], /--horde: "ftp:\/\/h" must start with http/],
    [['x', '--horde', 'nowhere'], /--horde: "nowhere" is not a URL/],
    [['x', '--colour'], /Unknown option '--colour'/],
    [['x', '--width'], /Option '--width <value>' argument missing/],
    [['   '], /the prompt is empty/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseDrawArgs(argv)).toThrow(UsageError);
    expect(() => parseDrawArgs(argv)).toThrow(message);
  });
});

describe('draw helpers', () => {
  it('names files after the prompt and numbers several', () => {
    expect(slugify('A lighthouse at dusk, très joli!')).toBe('a-lighthouse-at-dusk-tres-joli');
    expect(slugify('???')).toBe('image');
    expect(slugify('x'.repeat(100))).toHaveLength(48);
    expect(outputPaths({ prompt: 'a fox', count: 1 }, '/tmp/w')).toEqual(['/tmp/w/a-fox.webp']);
    expect(outputPaths({ prompt: 'a fox', count: 2 }, '/tmp/w')).toEqual([
      '/tmp/w/a-fox-1.webp',
      '/tmp/w/a-fox-2.webp',
    ]);
    expect(outputPaths({ prompt: 'p', count: 2, out: 'out/pic' }, '/tmp/w')).toEqual([
      '/tmp/w/out/pic-1',
      '/tmp/w/out/pic-2',
    ]);
    expect(outputPaths({ prompt: 'p', count: 1, out: '/abs/x.webp' }, '/tmp/w')).toEqual(['/abs/x.webp']);
  });

  it('reads a WebP’s size from lossy, lossless and extended headers', () => {
    expect(webpSize(TINY_WEBP)).toEqual({ width: 1, height: 1 });
    expect(webpSize(fakeWebp(1024, 768, 'x'))).toEqual({ width: 1024, height: 768 });
    const lossless = Buffer.alloc(30);
    lossless.write('RIFF', 0, 'latin1');
    lossless.write('WEBPVP8L', 8, 'latin1');
    lossless.writeUInt32LE(((300 - 1) | ((200 - 1) << 14)) >>> 0, 21);
    expect(webpSize(lossless)).toEqual({ width: 300, height: 200 });
    expect(webpSize(Buffer.from('not an image at all, really not one'))).toBeUndefined();
  });

  it('describes the state of a request', () => {
    const check = {
      finished: 0,
      processing: 0,
      restarted: 0,
      waiting: 2,
      done: false,
      faulted: false,
      wait_time: 12,
      queue_position: 3,
      kudos: 0,
      is_possible: true,
    };
    expect(describeCheck(check, 2)).toEqual({ state: 'queued #3', eta: 'ETA 12 s' });
    expect(describeCheck({ ...check, processing: 1, waiting: 1 }, 2).state).toBe('processing 1/2 · 1 queued');
    expect(describeCheck({ ...check, processing: 1, waiting: 0, finished: 1 }, 2).state).toBe(
      'processing 1/2 · 1 done',
    );
  });
});
