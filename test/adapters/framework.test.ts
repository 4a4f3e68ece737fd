/**
 * The chat framework and the built-in plugins on the in-memory platform, backed by a real community horde
 * (embedded client) and our worker node on the demo backend: the `/draw` walk, the buttons, kudos,
 * transfers, and every refusal said in words.
 */
import type { ChatApp } from '@hordekit/adapters';
import { MemoryPlatform, memoryPlace, memoryUser } from '@hordekit/adapters/testing';
import type { FakeClock } from '@hordekit/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChatHarness, startChatHorde } from '../support/chat-harness.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import type { TestServer } from '../support/server.js';

let harness: ChatHarness;
let ts: TestServer;
let app: ChatApp;
let platform: MemoryPlatform;
let clock: FakeClock;
const place = memoryPlace('guild-1');
const alice = memoryUser('alice-id', 'Alice');
const bob = memoryUser('bob-id', 'Bob');
const admin = memoryUser('admin-id', 'Ada', true);

beforeEach(async () => {
  harness = await startChatHorde();
  ({ ts, app, clock } = harness);
  platform = new MemoryPlatform();
  await harness.waitForWorker();
});

afterEach(async () => {
  await harness.close();
});

const lastFor = (userId: string) => platform.visible(place.channelId, userId).at(-1)!;

describe('/draw on the in-memory platform', () => {
  it('shows progress in one message, then the images the worker made, with redo, details and delete', async () => {
    await platform.command(app, alice, place, 'draw', { prompt: 'a lighthouse at dusk', seed: '77' });
    const [result] = platform.visible(place.channelId);
    expect(platform.visible(place.channelId)).toHaveLength(1);
    expect(result!.history[0]).toMatch(/^Drawing “a lighthouse at dusk”: (queued|in the queue)/);
    expect(result!.text).toMatch(
      /^“a lighthouse at dusk” — seed 77 · stable_diffusion · drawn by demo-gpu · [\d.]+ kudos\.$/,
    );
    expect(result!.images).toHaveLength(1);
    // Exactly the bytes the worker uploaded to the horde's image store.
    const requestId = result!.buttons[0]![0]!.payload;
    const uploaded = await harness.uploadedBytes(requestId);
    expect(Buffer.from(result!.images[0]!.bytes).equals(Buffer.from(uploaded!))).toBe(true);
    expect(result!.buttons[0]!.map((button) => button.label)).toEqual([
      'Redo (new seed)',
      'Details',
      'Delete',
    ]);

    // Redo: a new request with a new seed.
    clock.advance(60_000);
    await platform.press(app, alice, place, result!, result!.buttons[0]![0]!);
    const redo = platform.visible(place.channelId).at(-1)!;
    expect(redo.id).not.toBe(result!.id);
    expect(redo.text).toMatch(/^“a lighthouse at dusk” — seed \d+/);
    expect(redo.text).not.toMatch(/seed 77 /);

    // Details: only for the one who asked.
    await platform.press(app, bob, place, result!, result!.buttons[0]![1]!);
    expect(lastFor(bob.id).visibleTo).toBe(bob.id);
    expect(lastFor(bob.id).text).toMatch(/seed 77, stable_diffusion, worker demo-gpu/);

    // Delete: refused for someone else, done for the requester.
    await platform.press(app, bob, place, result!, result!.buttons[0]![2]!);
    expect(lastFor(bob.id).text).toBe('Only the person who asked for it, or an admin, can delete it.');
    expect(platform.messages.find((message) => message.id === result!.id)?.deleted).toBe(false);
    await platform.press(app, alice, place, result!, result!.buttons[0]![2]!);
    expect(platform.messages.find((message) => message.id === result!.id)?.deleted).toBe(true);
    await expectConsistentLedger(ts.horde.store);
  });

  it('answers a second /draw within the cooldown in words, and lets it through after', async () => {
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat' });
    await platform.command(app, alice, place, 'draw', { prompt: 'a dog' });
    expect(lastFor(alice.id)).toMatchObject({
      visibleTo: alice.id,
      text: 'Slow down a little: you can draw again in 10 s.',
    });
    clock.advance(10_000);
    await platform.command(app, alice, place, 'draw', { prompt: 'a dog' });
    expect(lastFor(alice.id).text).toMatch(/^“a dog” — seed/);
  });

  it('keeps adult content out of non-adult places: censored by default, refused under the refuse policy', async () => {
    await platform.command(app, alice, place, 'draw', { prompt: 'a nude statue' });
    const censoredText = lastFor(alice.id).text;
    expect(censoredText).toMatch(/^“a nude statue” — seed/);
    await app.settings.update(place, { sfwPolicy: 'refuse' });
    clock.advance(60_000);
    await platform.command(app, alice, place, 'draw', { prompt: 'a nude statue' });
    expect(lastFor(alice.id)).toMatchObject({
      visibleTo: alice.id,
      text: expect.stringMatching(/^Adult content is not allowed here/),
    });
    const adultPlace = memoryPlace('guild-1', { channelId: 'guild-1-adult', platformAdult: true });
    clock.advance(60_000);
    await platform.command(app, alice, adultPlace, 'draw', { prompt: 'a nude statue' });
    expect(platform.visible(adultPlace.channelId).at(-1)!.text).toMatch(/^“a nude statue” — seed/);
  });

  it('says which models are served when the asked one is not, and what an upfront-kudos request needs', async () => {
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat', model: 'Deliberate' });
    expect(lastFor(alice.id)).toMatchObject({
      visibleTo: alice.id,
      text: 'No worker serves Deliberate right now. Served now: stable_diffusion.',
    });
    clock.advance(60_000);
    await platform.command(app, bob, place, 'draw', {
      prompt: 'a huge cat',
      size: '1216x832',
      steps: 150,
      count: 4,
    });
    expect(lastFor(bob.id).text).toMatch(/^At most 50 steps here\.$/);
    await app.settings.update(place, { maxSteps: 150 });
    await platform.command(app, bob, place, 'draw', {
      prompt: 'a huge cat',
      size: '1216x832',
      steps: 150,
      count: 4,
    });
    expect(lastFor(bob.id).text).toMatch(
      /^That request is too big to run on credit\. It needs \d+ kudos upfront, and you have \d+\. Make it smaller/,
    );
  });

  it('/kudos shows the spend; /transfer moves kudos to someone on the same platform', async () => {
    await platform.command(app, alice, place, 'kudos');
    const aliceAccount = await ts.horde.findAccount(lastFor(alice.id).text.match(/account is (\S+)\./)![1]!);
    await ts.horde.modifyAccount({ accountId: 1 }, aliceAccount!.id, { kudos: 100 });
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat' });
    await platform.command(app, alice, place, 'kudos');
    const balance = Number(lastFor(alice.id).text.match(/You have (\d+) kudos/)![1]);
    expect(balance).toBeLessThan(100);
    expect(lastFor(alice.id).text).toMatch(/request fee|pictures or text drawn for you/);

    await platform.command(app, alice, place, 'transfer', { to: bob.id, amount: 20 });
    expect(platform.visible(place.channelId).at(-1)!.text).toMatch(/^Alice sent 20 kudos to /);
    await platform.command(app, bob, place, 'kudos');
    expect(lastFor(bob.id).text).toMatch(/^You have 20 kudos/);
    await platform.command(app, alice, place, 'transfer', { to: bob.id, amount: 100_000 });
    expect(lastFor(alice.id).visibleTo).toBe(alice.id);
    expect(lastFor(alice.id).text).toMatch(/^The horde refused the request: /);
    await expectConsistentLedger(ts.horde.store);
  });

  it('refuses admin settings to non-admins, and bad options with what is allowed', async () => {
    await platform.command(app, alice, place, 'draw', { prompt: 'a cat', count: 9 });
    expect(lastFor(alice.id).text).toBe('`count` must be between 1 and 4.');
    await platform.command(app, alice, place, 'draw', {});
    expect(lastFor(alice.id).text).toBe('Please give `prompt` (What to draw).');
    await platform.command(app, admin, place, 'nope');
    expect(lastFor(admin.id).text).toBe('There is no /nope here. Try /help.');
  });
});
