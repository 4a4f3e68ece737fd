import { describe, expect, it } from 'vitest';
import { jobContext, textJob } from '../testing/jobs.js';
import { createDemoTextBackend, DEMO_TEXT_MARKER, DEMO_TEXT_MODEL } from './demo-text.js';
import { BackendError, type TextJob } from './types.js';

/** The fixture job for the demo model, with this file's prompt. */
const demoJob = (overrides: Partial<TextJob> = {}) =>
  textJob({ model: DEMO_TEXT_MODEL, prompt: 'Tell me about the sea.', ...overrides });

describe('demo text backend', () => {
  it('advertises its model and limits', async () => {
    const backend = createDemoTextBackend();
    expect(backend.kind).toBe('demo');
    expect(await backend.models()).toEqual([DEMO_TEXT_MODEL]);
    expect([backend.maxLength, backend.maxContextLength]).toEqual([512, 4096]);
    const custom = createDemoTextBackend({ model: 'Tiny Demo', maxLength: 64, maxContextLength: 512 });
    expect(await custom.models()).toEqual(['Tiny Demo']);
    expect([custom.maxLength, custom.maxContextLength]).toEqual([64, 512]);
  });

  it('writes the same marked text for the same prompt, seed and length', async () => {
    const backend = createDemoTextBackend();
    const first = await backend.generate(demoJob(), jobContext().context);
    const again = await backend.generate(demoJob(), jobContext().context);
    expect(again).toEqual(first);
    expect(first.text.startsWith(`${DEMO_TEXT_MARKER} `)).toBe(true);
    expect(first.seed).toBe(0);
  });

  it('writes different text for another prompt or seed', async () => {
    const backend = createDemoTextBackend();
    const base = (await backend.generate(demoJob(), jobContext().context)).text;
    const otherPrompt = await backend.generate(
      demoJob({ prompt: 'Tell me about the hills.' }),
      jobContext().context,
    );
    const otherSeed = await backend.generate(demoJob({ params: { sampler_seed: 9 } }), jobContext().context);
    expect(otherPrompt.text).not.toBe(base);
    expect(otherSeed.text).not.toBe(base);
    expect(otherSeed.seed).toBe(9);
  });

  it('is about max_length tokens long by the horde estimate (characters / 4), capped by the backend', async () => {
    const backend = createDemoTextBackend({ maxLength: 100 });
    for (const maxLength of [16, 80, 100, 400]) {
      const { text } = await backend.generate(demoJob({ maxLength }), jobContext().context);
      const tokens = Math.min(maxLength, 100);
      expect(text.length).toBeLessThanOrEqual(tokens * 4);
      expect(text.length).toBeGreaterThan(tokens * 4 - 20);
    }
  });

  it('reports progress per word when slowed down, and stops when aborted', async () => {
    const slow = createDemoTextBackend({ tokenDelayMs: 1 });
    const { context, progress } = jobContext();
    await slow.generate(demoJob({ maxLength: 20 }), context);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(1);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const running = createDemoTextBackend({ tokenDelayMs: 10 }).generate(
      demoJob({ maxLength: 400 }),
      jobContext(controller.signal).context,
    );
    await expect(running).rejects.toThrow(BackendError);
  });
});
