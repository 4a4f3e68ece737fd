/**
 * `npm start`'s app as a process: the first start creates the administrator and shows its key once (also in
 * an owner-only file), later starts only say where it is; the dev endpoint exists only when enabled;
 * SIGINT drains and exits cleanly.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, startApp, stopApp } from '../support/app-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hordekit-app-'));

/** The start-up lines arrive in more than one chunk: wait for the last one. */
async function printed(output: () => string, text: string, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`never printed ${JSON.stringify(text)}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return output();
}

beforeAll(() => buildApp(), 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the community horde app', () => {
  it('creates the administrator on the first start and shows the key once', async () => {
    const app = await startApp(dir, 20_000, { HORDE_TEST_APIKEYS: '0' });
    const output = await printed(app.output, 'register:');
    const key = /API key (\S{22})/.exec(output)?.[1];
    expect(key, output).toBeDefined();
    expect(output).toContain(`docs:     ${app.origin}/api/`);

    const file = join(dir, 'admin-key.txt');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(key);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);

    const me = await fetch(`${app.api}/find_user`, { headers: { apikey: key! } });
    expect(await me.json()).toMatchObject({ username: 'admin#1', id: 1, moderator: true, trusted: true });

    const dev = await fetch(`${app.api}/dev/test-user`, { method: 'POST', body: '{}' });
    expect(dev.status).toBe(404);

    expect(await stopApp(app.child, 'SIGINT')).toEqual({ code: 0, signal: null });
    await printed(app.output, 'stopped cleanly');

    const again = await startApp(dir, 20_000, { HORDE_TEST_APIKEYS: '0' });
    const againOutput = await printed(again.output, 'register:');
    expect(againOutput).not.toContain(key);
    expect(againOutput).toContain('admin-key.txt');
    const still = await fetch(`${again.api}/find_user`, { headers: { apikey: key! } });
    expect(still.status).toBe(200);
    expect(await stopApp(again.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('mints test users on loopback when HORDE_TEST_APIKEYS is on', async () => {
    const app = await startApp(mkdtempSync(join(dir, 'dev-')));
    const created = await fetch(`${app.api}/dev/test-user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ci_user', kudos: 500 }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { api_key: string };
    expect(body).toMatchObject({ username: 'ci_user', kudos: 500, created: true, moderator: true });
    expect(body.api_key).toHaveLength(22);
    expect(await stopApp(app.child, 'SIGINT')).toEqual({ code: 0, signal: null });
  });
});
