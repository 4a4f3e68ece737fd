/**
 * The API reference at `/api/` in a real browser (Chromium from Debian, driven by playwright-core): Swagger
 * UI loads from the server's own assets — nothing from a CDN, so it works on an offline horde — and renders
 * the operations of the generated OpenAPI document.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';

let ts: TestServer;
let browser: Browser;

// `.ci/run` installs Debian's chromium; without it (a bare dev machine) the suite says so and skips.
describe.runIf(existsSync(CHROMIUM))('the API reference in a browser', () => {
  beforeAll(async () => {
    ts = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ts?.close();
  });

  it('renders every tag and the generate operation from local assets only', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    const failed: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(ts.origin) && !request.url().startsWith('data:'))
        foreign.push(request.url());
    });
    page.on('requestfailed', (request) => failed.push(request.url()));
    await page.goto(`${ts.origin}/api/`);
    await page.waitForSelector('.opblock', { timeout: 15_000 });

    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.map((path) => path.replace(/\u200b/g, ''))).toContain('/api/v2/generate/async');
    const tags = await page.locator('.opblock-tag').allTextContents();
    for (const tag of ['image', 'text', 'users', 'workers', 'kudos', 'status']) {
      expect(tags.some((text) => text.toLowerCase().startsWith(tag))).toBe(true);
    }
    expect(await page.title()).toContain('hordekit');
    expect(foreign, 'requests that left the horde').toEqual([]);
    expect(failed, 'requests that failed').toEqual([]);
    await page.close();
  });
});
