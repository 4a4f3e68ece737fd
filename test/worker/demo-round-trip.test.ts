/**
 * The worker node on the demo backends against a real community horde: a request goes in, the worker
 * pops, generates, uploads and submits; the requester downloads exactly the bytes the backend made, and
 * the kudos move as the ledger says.
 */
import {
  createDemoImageBackend,
  createDemoTextBackend,
  DEMO_IMAGE_MODEL,
  DEMO_TEXT_MODEL,
  type ImageWorker,
  type TextWorker,
} from '@hordekit/worker';
import { imageJob, jobContext } from '@hordekit/worker/testing';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectConsistentLedger } from '../support/ledger-check.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  downloadImages,
  kudosOf,
  requestImage,
  requestText,
  startImageWorker,
  startTextWorker,
  waitForStatus,
} from '../support/worker-harness.js';

let ts: TestServer;
const running: (ImageWorker | TextWorker)[] = [];

beforeEach(async () => {
  ts = await startTestServer();
});

afterEach(async () => {
  for (const worker of running.splice(0)) await worker.stop({ halt: true });
  await ts.close();
});

describe('demo image backend end to end', () => {
  it('serves a two-image request: WebP of the asked size, the same bytes the backend rendered, kudos moved', async () => {
    const owner = await ts.user('gpu-owner', 0, { customizer: true });
    const requester = await ts.user('requester', 500);
    const backend = createDemoImageBackend();
    const { worker, reporter } = await startImageWorker(ts, backend, { owner, name: 'demo-box', amount: 2 });
    running.push(worker);
    const ownerBefore = await kudosOf(ts, owner.id);
    const requesterBefore = await kudosOf(ts, requester.id);

    const id = await requestImage(ts, requester.apiKey, {
      prompt: 'a lighthouse at dusk ### fog',
      models: [DEMO_IMAGE_MODEL],
      params: { width: 576, height: 320, steps: 10, n: 2, seed: '1234' },
    });
    const status = await waitForStatus(ts, id);
    expect(status.generations).toHaveLength(2);
    const images = await downloadImages(ts, status);

    const seeds = status.generations.map((generation: { seed: string }) => Number(generation.seed)).sort();
    expect(seeds).toEqual([1234, 1235]);
    for (const [index, image] of images.entries()) {
      const seed = Number(status.generations[index].seed);
      const expected = (
        await backend.generate(
          imageJob({
            model: DEMO_IMAGE_MODEL,
            prompt: 'a lighthouse at dusk',
            width: 576,
            height: 320,
            steps: 10,
            seed,
            count: 1,
          }),
          jobContext().context,
        )
      )[0]!.data;
      expect(image.equals(expected), `image ${index} bytes`).toBe(true);
      const meta = await sharp(image).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 576, 320]);
    }
    expect(status.generations[0].worker_name).toBe('demo-box');
    expect(status.generations[0].gen_metadata).toEqual(
      expect.arrayContaining([
        { type: 'information', value: 'see_ref', ref: 'demo backend: procedural image, not AI' },
      ]),
    );

    // The worker's reported kudos are exactly what its owner gained; the requester paid.
    await expect.poll(() => reporter.last?.done).toBe(2);
    const earned = reporter.last!.kudos;
    expect(earned).toBeGreaterThan(0);
    expect(await kudosOf(ts, owner.id)).toBeCloseTo(ownerBefore + earned, 2);
    expect(await kudosOf(ts, requester.id)).toBeLessThan(requesterBefore);
    expect(reporter.last!.megapixelstepsPerSecond).toBeGreaterThan(0);
    await expectConsistentLedger(ts.horde.store);
  });

  it('pops with the fields a real worker sends and advertises none of the features the demo cannot do', async () => {
    const owner = await ts.user('gpu-owner', 0, { customizer: true });
    const { worker, reporter } = await startImageWorker(ts, createDemoImageBackend(), {
      owner,
      name: 'demo-flags',
      threads: 2,
      amount: 3,
      nsfw: false,
      blacklist: ['spider'],
    });
    running.push(worker);
    await expect.poll(async () => (await ts.call('GET', '/workers')).body.length).toBe(1);
    const [view] = (await ts.call('GET', '/workers')).body;
    expect(view.name).toBe('demo-flags');
    expect(view.bridge_agent).toMatch(/^hordekit-worker:\d+\.\d+\.\d+:https:\/\//);
    expect(view.models).toEqual([DEMO_IMAGE_MODEL]);
    expect(view.threads).toBe(2);
    expect(view.img2img).toBe(false);
    expect(view.painting).toBe(false);
    expect(view.lora).toBe(false);
    expect(view['post-processing']).toBe(false);
    expect(view.nsfw).toBe(false);
    expect(reporter.text()).toMatch(/not advertised.*allow_img2img.*allow_painting/);
  });
});

describe('demo text backend end to end', () => {
  it('serves a text request with the deterministic demo text', async () => {
    const owner = await ts.user('text-owner');
    const requester = await ts.user('requester', 100);
    const { worker, reporter } = await startTextWorker(ts, createDemoTextBackend(), {
      owner,
      name: 'demo-scribe',
    });
    running.push(worker);
    const id = await requestText(ts, requester.apiKey, {
      prompt: 'Once upon a time',
      models: [DEMO_TEXT_MODEL],
      params: { max_length: 40, max_context_length: 1024 },
    });
    const status = await waitForStatus(ts, id, 'text');
    expect(status.generations).toHaveLength(1);
    expect(status.generations[0].text).toMatch(/^\[hordekit demo text — not a language model\]/);
    expect(status.generations[0].worker_name).toBe('demo-scribe');
    await expect.poll(() => reporter.last?.done).toBe(1);
    await expectConsistentLedger(ts.horde.store);
  });
});
