/**
 * The chat framework on the in-memory platform, backed by a real community horde (embedded client) and our
 * worker node on the demo backend: what the framework itself refuses, in words. The `/draw` walk, kudos,
 * transfers and the other refusals are the adapter conformance suite's (`conformance.test.ts`), which runs
 * on this platform too.
 */
import type { ChatApp } from '@hordekit/adapters';
import { MemoryPlatform, memoryPlace, memoryUser } from '@hordekit/adapters/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHorde } from '../support/chat-harness.js';

let harness: ChatHarness;
let app: ChatApp;
let platform: MemoryPlatform;
const place = memoryPlace('guild-1');
const alice = memoryUser('alice-id', 'Alice');
const admin = memoryUser('admin-id', 'Ada', true);

beforeEach(async () => {
  harness = await startChatHorde();
  ({ app } = harness);
  platform = new MemoryPlatform();
  await harness.waitForWorker();
});

afterEach(async () => {
  await harness.close();
});

const lastFor = (userId: string) => platform.visible(place.channelId, userId).at(-1)!;

describe('the framework on the in-memory platform', () => {
  it('refuses bad options with what is allowed, and unknown commands', async () => {
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat', count: 9 });
    expect(lastFor(alice.id).text).toBe('`count` must be between 1 and 4.');
    await platform.command(app, alice, place, 'draw', {});
    expect(lastFor(alice.id).text).toBe('Please give `prompt` (What to draw).');
    await platform.command(app, admin, place, 'nope');
    expect(lastFor(admin.id).text).toBe('There is no /nope here. Try /help.');
  });

  it('draws in a style: its template and negative words go to the horde, the caption keeps the prompt', async () => {
    await platform.command(app, alice, place, 'draw', {
      prompt: 'a harbour',
      negative: 'boats',
      style: 'watercolor',
    });
    const result = lastFor(alice.id);
    expect(result.text).toMatch(/^“a harbour” — seed \d+/);
    const request = await harness.ts.horde.store.getRequest(result.buttons[0]![0]!.payload);
    expect((request!.body as { prompt: string }).prompt).toBe(
      'watercolor painting of a harbour, soft washes, paper texture ### boats, photo, 3d render',
    );
    await platform.command(app, alice, place, 'draw', { prompt: 'a harbour', style: 'cubism' });
    expect(lastFor(alice.id).text).toMatch(
      /^`style` must be one of: photo, watercolor, oil-painting, anime, pixel-art, line-art\.$/,
    );
  });
});
