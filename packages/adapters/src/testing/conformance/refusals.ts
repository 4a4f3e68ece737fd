/**
 * Refusals said in words, privately, leaving nothing public behind: adult prompts where adult content is
 * not allowed, the cooldown, a model nobody serves, limits, and a request too big to run on credit.
 */
import { describe, expect, it } from 'vitest';
import { type Conformance, idsSince } from './harness.js';

export function refusalCases(h: Conformance): void {
  describe.sequential('refusals in words', () => {
    it('keeps adult content out of a non-adult place: censored by default, refused under `refuse`, drawn where adult', async () => {
      const { driver, chat } = h;
      await driver.command('alice', 'draw', { prompt: 'a nude statue' });
      expect(await driver.lastMessageFor('alice')).toMatchObject({
        private: false,
        text: expect.stringMatching(/^“a nude statue” — seed/),
      });

      await chat.settings.update(driver.places.public, { sfwPolicy: 'refuse' });
      h.advance(60_000);
      const before = await driver.publicMessages();
      await driver.command('alice', 'draw', { prompt: 'a nude statue' });
      expect(await driver.lastMessageFor('alice')).toMatchObject({
        private: true,
        text: expect.stringMatching(/^Adult content is not allowed here/),
      });
      // Nothing public is left of it (on Discord: the deferred "thinking…" gave way to the private answer).
      expect(idsSince(await driver.publicMessages(), before)).toEqual([]);

      await driver.makeAdult(chat);
      h.advance(60_000);
      await driver.command('alice', 'draw', { prompt: 'a nude statue' }, 'adult');
      expect(await driver.lastMessageFor('alice', 'adult')).toMatchObject({
        private: false,
        text: expect.stringMatching(/^“a nude statue” — seed/),
      });
    });

    it('answers a second /draw within the cooldown in words, and lets it through after', async () => {
      const { driver } = h;
      await driver.command('alice', 'draw', { prompt: 'a cat' });
      await driver.command('alice', 'draw', { prompt: 'a dog' });
      expect(await driver.lastMessageFor('alice')).toMatchObject({
        private: true,
        text: 'Slow down a little: you can draw again in 10 s.',
      });
      h.advance(10_000);
      await driver.command('alice', 'draw', { prompt: 'a dog' });
      expect(await driver.lastMessageFor('alice')).toMatchObject({
        private: false,
        text: expect.stringMatching(/^“a dog” — seed/),
      });
    });

    it('says which models are served when the asked one is not, and what an upfront-kudos request needs', async () => {
      const { driver, chat } = h;
      const before = await driver.publicMessages();
      await driver.command('alice', 'draw', { prompt: 'a cat', model: 'Deliberate' });
      expect(await driver.lastMessageFor('alice')).toMatchObject({
        private: true,
        text: 'No worker serves Deliberate right now. Served now: stable_diffusion.',
      });

      h.advance(60_000);
      // Less than the request needs (a debit stops at the account's floor, 14 kudos by default).
      await h.setKudos('bob', 0);
      const huge = { prompt: 'a huge cat', size: '1216x832', steps: 150, count: 4 };
      await driver.command('bob', 'draw', huge);
      expect(await driver.lastMessageFor('bob')).toMatchObject({
        private: true,
        text: 'At most 50 steps here.',
      });
      await chat.settings.update(driver.places.public, { maxSteps: 150 });
      await driver.command('bob', 'draw', huge);
      const upfront =
        /^That request is too big to run on credit\. It needs (\d+) kudos upfront, and you have (\d+)\. Make it smaller/;
      const answer = await driver.lastMessageFor('bob');
      expect(answer).toMatchObject({ private: true, text: expect.stringMatching(upfront) });
      const [, needed, had] = answer.text.match(upfront) ?? [];
      expect(Number(had)).toBeLessThan(Number(needed));
      expect(idsSince(await driver.publicMessages(), before)).toEqual([]);
    });
  });
}
