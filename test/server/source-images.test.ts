/**
 * img2img sources over HTTP: a base64 `source_image` reaches a bridge that fetches sources (`r2_source`) as a
 * signed URL serving the same bytes, and an older bridge as the base64 itself; unreadable and oversized
 * sources are refused before anything is queued or charged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, imageRequest, regenPopBody, TINY_WEBP } from '../support/horde-http.js';
import { startTestServer, type TestAccount, type TestServer, TINY_WEBP_BASE64 } from '../support/server.js';

const MODEL = 'stable_diffusion';
const OLD_LEGACY_AGENT = 'AI Horde Worker:13:https://github.com/db0/AI-Horde-Worker';

let ts: TestServer;
let requester: TestAccount;
let owner: TestAccount;

beforeAll(async () => {
  ts = await startTestServer();
  requester = await ts.user('img2img-requester', 500);
  owner = await ts.user('img2img-owner', 0, { trusted: true });
});
afterAll(() => ts.close());

async function queueImg2img(): Promise<string> {
  const accepted = await ts.call('POST', '/generate/async', {
    apikey: requester.apiKey,
    body: imageRequest(MODEL, {}, { source_image: TINY_WEBP_BASE64, source_processing: 'img2img' }),
  });
  expect(accepted.status).toBe(202);
  return accepted.body.id;
}

describe('source images', () => {
  it('hands a base64 source to an r2_source bridge as a signed URL of the same bytes', async () => {
    await queueImg2img();
    const pop = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: regenPopBody('img2img regen worker', [MODEL]),
    });
    expect(pop.status).toBe(200);
    expect(pop.body.id).not.toBeNull();
    expect(pop.body.source_processing).toBe('img2img');
    expect(pop.body.source_image).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/api\/v2\/images\/.+\?expires=\d+&sig=/,
    );
    const fetched = await download(pop.body.source_image);
    expect(fetched.status).toBe(200);
    expect(fetched.bytes.equals(TINY_WEBP)).toBe(true);
  });

  it('hands it to a bridge without r2_source as base64', async () => {
    await queueImg2img();
    const pop = await ts.call('POST', '/generate/pop', {
      apikey: owner.apiKey,
      body: {
        name: 'img2img old legacy worker',
        models: [MODEL],
        bridge_agent: OLD_LEGACY_AGENT,
        nsfw: true,
      },
    });
    expect(pop.status).toBe(200);
    expect(pop.body.id).not.toBeNull();
    expect(pop.body.source_image).toBe(TINY_WEBP_BASE64);
    // Bridge 13 has `r2` (from 8): it still gets upload URLs.
    expect(pop.body.r2_uploads).toHaveLength(pop.body.ids.length);
  });

  it('refuses unreadable and oversized sources without charging', async () => {
    const before = (await ts.call('GET', '/find_user', { apikey: requester.apiKey })).body.kudos;
    const unreadable = await ts.call('POST', '/generate/async', {
      apikey: requester.apiKey,
      body: imageRequest(MODEL, {}, { source_image: Buffer.from('just some text').toString('base64') }),
    });
    expect(unreadable.status).toBe(400);
    expect(unreadable.body.rc).toBe('SourceImageUnreadable');
    expect(unreadable.body.message).toContain('source_image');

    const png = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png, 0);
    png.writeUInt32BE(13, 8);
    png.write('IHDR', 12, 'ascii');
    png.writeUInt32BE(4096, 16);
    png.writeUInt32BE(4096, 20);
    const oversized = await ts.call('POST', '/generate/async', {
      apikey: requester.apiKey,
      body: imageRequest(MODEL, {}, { source_image: png.toString('base64') }),
    });
    expect(oversized.status).toBe(400);
    expect(oversized.body.rc).toBe('SourceImageResolutionExceeded');
    const after = (await ts.call('GET', '/find_user', { apikey: requester.apiKey })).body.kudos;
    expect(after).toBe(before);
  });
});
