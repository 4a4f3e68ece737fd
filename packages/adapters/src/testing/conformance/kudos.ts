/**
 * `/kudos` and `/transfer`. Embedded, everyone has an account of their own; remote, people without a
 * linked key draw on the bot's shared account, which `/kudos` names and `/transfer` may not give away.
 */
import { describe, expect, it } from 'vitest';
import { type Conformance, escapeRegExp, idsSince } from './harness.js';

export function kudosCases(h: Conformance): void {
  describe.sequential('/kudos and /transfer', () => {
    it('/kudos answers privately and reflects the spend of a /draw', async () => {
      const { driver } = h;
      const account = await h.accountOf('alice');
      const before = await driver.publicMessages();
      await driver.command('alice', 'kudos');
      const first = await driver.lastMessageFor('alice');
      expect(first.private).toBe(true);
      expect(idsSince(await driver.publicMessages(), before)).toEqual([]);
      const alias = escapeRegExp(account.alias);
      const balance =
        h.mode === 'embedded'
          ? new RegExp(`^You have (-?\\d+) kudos\\. Your horde account is ${alias}\\.`)
          : new RegExp(
              `^This bot draws for you with its shared horde account ${alias}, which has (-?\\d+) kudos\\.`,
            );
      expect(first.text).toMatch(balance);
      expect(account.shared).toBe(h.mode === 'remote');

      await h.horde.setKudos(account.alias, 100);
      await driver.command('alice', 'draw', { prompt: 'a cat' });
      expect((await driver.lastMessageFor('alice')).text).toMatch(/^“a cat” — seed \d+/);
      await driver.command('alice', 'kudos');
      const after = await driver.lastMessageFor('alice');
      expect(after.private).toBe(true);
      expect(Number(after.text.match(balance)?.[1])).toBeLessThan(100);
      // Where the horde keeps the movements (embedded), they are listed in words.
      if (h.mode === 'embedded') expect(after.text).toMatch(/request fee|pictures or text drawn for you/);
      await h.horde.expectConsistentLedger();
    });

    it('/transfer moves kudos to someone on the same platform (embedded) or says a shared account cannot (remote)', async () => {
      const { driver } = h;
      await h.setKudos('alice', 100);
      if (h.mode === 'remote') {
        const before = await driver.publicMessages();
        await driver.command('alice', 'transfer', { to: { user: 'bob' }, amount: 20 });
        expect(await driver.lastMessageFor('alice')).toMatchObject({
          private: true,
          text: "You don't have kudos of your own here: this bot draws for you with its shared horde account. Link your own horde API key to send kudos.",
        });
        expect(idsSince(await driver.publicMessages(), before)).toEqual([]);
        await h.horde.expectConsistentLedger();
        return;
      }
      await h.setKudos('bob', 0);
      const alice = escapeRegExp(driver.users.alice.displayName);
      await driver.command('alice', 'transfer', { to: { user: 'bob' }, amount: 20 });
      const sent = (await driver.publicMessages()).at(-1);
      expect(sent?.text).toMatch(new RegExp(`^${alice} sent 20 kudos to \\S+\\. ${alice} has 80 left\\.$`));
      expect(await driver.lastMessageFor('alice')).toEqual(sent);
      await driver.command('bob', 'kudos');
      expect(await driver.lastMessageFor('bob')).toMatchObject({
        private: true,
        text: expect.stringMatching(/^You have 20 kudos/),
      });

      await driver.command('alice', 'transfer', { to: { user: 'bob' }, amount: 100_000 });
      expect(await driver.lastMessageFor('alice')).toMatchObject({
        private: true,
        text: expect.stringMatching(/^The horde refused the request: /),
      });
      await h.horde.expectConsistentLedger();
    });
  });
}
