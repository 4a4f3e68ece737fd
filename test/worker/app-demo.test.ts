/**
 * `npm start` shows pictures: the community horde with its built-in demo workers (the default) serves an
 * anonymous image request and a text request with no GPU, and says the output is not AI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppProcess, buildApp, startApp, stopApp } from '../support/app-process.js';
import { waitUntil } from '../support/horde-http.js';

let app: AppProcess;
let dir: string;

beforeAll(async () => {
  buildApp();
  dir = mkdtempSync(join(tmpdir(), 'hordekit-app-demo-'));
  app = await startApp(dir, 30_000, { HORDEKIT_DEMO_WORKER: '1' });
}, 60_000);

afterAll(async () => {
  await stopApp(app.child, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown) {
  const response = await fetch(`${app.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: '0000000000' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function finished(path: string) {
  return waitUntil(async () => {
    const body = (await (await fetch(`${app.api}${path}`)).json()) as { done: boolean; generations: never[] };
    return body.done ? body : undefined;
  }, 20_000);
}

describe('npm start with the built-in demo workers', () => {
  it('announces the demo workers and how to try them', async () => {
    await expect
      .poll(() => app.output())
      .toMatch(/demo: +built-in demo workers .*not AI.*HORDEKIT_DEMO_WORKER=0/);
    expect(app.output()).toMatch(/npm run draw -- "a lighthouse at dusk"/);
    expect(statSync(join(dir, 'demo-worker-key.txt')).mode & 0o777).toBe(0o600);
  });

  it('serves an anonymous "any model" request (as npm run draw sends): a WebP of the asked size, marked as a demo', async () => {
    const accepted = await post('/generate/async', {
      prompt: 'a lighthouse at dusk',
      models: [],
      params: { width: 640, height: 384, steps: 10 },
    });
    expect(accepted.status).toBe(202);
    const status = await finished(`/generate/status/${accepted.body.id}`);
    const [generation] = status.generations as { img: string; worker_name: string; model: string }[];
    expect(generation!.worker_name).toMatch(/demo \(not AI\)$/);
    expect(generation!.model).toBe('Demo Procedural (not AI)');
    const image = Buffer.from(await (await fetch(generation!.img)).arrayBuffer());
    const meta = await sharp(image).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 640, 384]);
    expect(meta.exif?.toString('latin1')).toMatch(/not AI-generated/);
  });

  it('serves a text request with the demo text generator', async () => {
    const accepted = await post('/generate/text/async', { prompt: 'Hello', params: { max_length: 32 } });
    expect(accepted.status).toBe(202);
    const status = await finished(`/generate/text/status/${accepted.body.id}`);
    const [generation] = status.generations as { text: string; worker_name: string }[];
    expect(generation!.text).toMatch(/not a language model/);
    expect(generation!.worker_name).toMatch(/demo text \(not AI\)$/);
  });

  it('keeps the demo account key private and reuses it after a restart', async () => {
    const keyFile = join(dir, 'demo-worker-key.txt');
    await expect.poll(() => existsSync(keyFile)).toBe(true);
    const first = readFileSync(keyFile, 'utf8');
    await stopApp(app.child, 'SIGTERM');
    expect(app.output()).toMatch(/stopped cleanly/);
    app = await startApp(dir, 30_000, { HORDEKIT_DEMO_WORKER: '1' });
    expect(readFileSync(keyFile, 'utf8')).toBe(first);
    const accepted = await post('/generate/async', {
      prompt: 'again',
      models: ['Demo Procedural (not AI)'],
      params: { width: 512, height: 512, steps: 5 },
    });
    expect(accepted, JSON.stringify(accepted.body)).toMatchObject({ status: 202 });
    const status = await finished(`/generate/status/${accepted.body.id}`);
    expect(status.generations).toHaveLength(1);
  }, 60_000);
});
