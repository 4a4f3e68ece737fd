/** The `/draw` walk: acknowledgement, progress, the worker's own bytes, and the buttons on the result. */
import { describe, expect, it } from 'vitest';
import { type Conformance, escapeRegExp, idsSince, sameBytes } from './harness.js';

const PROMPT = 'a lighthouse at dusk';

export function drawCases(h: Conformance): void {
  describe.sequential('/draw', () => {
    it('acks at once, edits one progress message, ends with the worker’s bytes; redo, details, delete', async ({
      annotate,
    }) => {
      const { driver, horde } = h;
      const worker = escapeRegExp(horde.workerName);
      const before = await driver.publicMessages();

      // A picture that outlasts the platform's edit interval, so that progress shows between the first
      // version and the result.
      horde.pace(Math.ceil((driver.editIntervalMs + 600) / 30));
      const { ackMs } = await driver.command('alice', 'draw', { prompt: PROMPT, seed: '77' });
      horde.pace();
      await annotate(`${driver.platform} /draw acknowledged in ${ackMs.toFixed(1)} ms`);
      expect(ackMs).toBeLessThan(3000);

      const result = await driver.lastMessageFor('alice');
      expect(result.private).toBe(false);
      expect(result.text).toMatch(
        new RegExp(`^“${PROMPT}” — seed 77 · stable_diffusion · drawn by ${worker} · [\\d.]+ kudos\\.$`),
      );
      expect(result.buttons.map((button) => button.label)).toEqual(['Redo (new seed)', 'Details', 'Delete']);
      const styles = result.buttons.map((button) => button.style);
      if (styles.some((style) => style !== undefined))
        expect(styles).toEqual(['primary', 'secondary', 'danger']);
      expect(result.buttons[0]).toMatchObject({
        action: 'draw:redo',
        payload: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      const requestId = result.buttons[0]!.payload;
      // Exactly the bytes the worker uploaded to the horde's image store.
      expect(result.images).toHaveLength(1);
      expect(sameBytes(result.images[0], await horde.uploadedBytes(requestId))).toBe(true);
      // The progress message became the result, or made way for it: one new message in the place.
      expect(idsSince(await driver.publicMessages(), before)).toEqual([result.id]);

      const progress = await driver.lastProgress();
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress[0]!.text).toMatch(new RegExp(`^Drawing “${PROMPT}”: (queued|in the queue)`));
      for (const version of progress) expect(version.text).toMatch(new RegExp(`^Drawing “${PROMPT}”: `));
      expect(progress[0]!.buttons).toEqual([
        expect.objectContaining({ label: 'Cancel', action: 'draw:cancel', payload: requestId }),
      ]);
      await driver.expectRendered?.(result);

      // Redo: a new request with a new seed, in a new message.
      h.advance(60_000);
      await driver.press('alice', result, 'Redo (new seed)');
      const redo = await driver.lastMessageFor('alice');
      expect(redo.id).not.toBe(result.id);
      expect(redo.private).toBe(false);
      expect(redo.text).toMatch(new RegExp(`^“${PROMPT}” — seed \\d+ `));
      expect(redo.text).not.toMatch(/seed 77 /);
      const redoId = redo.buttons[0]?.payload;
      expect(redoId).toBeDefined();
      expect(redoId).not.toBe(requestId);
      expect(redo.images).toHaveLength(1);
      expect(sameBytes(redo.images[0], await horde.uploadedBytes(redoId!))).toBe(true);

      // Details: for the one who asked only.
      await driver.press('bob', result, 'Details');
      const details = await driver.lastMessageFor('bob');
      expect(details.private).toBe(true);
      expect(details.text).toMatch(
        new RegExp(
          `^Request ${requestId}, [\\d.]+ kudos:\\n1\\. seed 77, stable_diffusion, worker ${worker}$`,
        ),
      );

      // Delete: refused (privately) for someone else, done for the requester, and for an admin.
      await driver.press('bob', result, 'Delete');
      expect(await driver.lastMessageFor('bob')).toMatchObject({
        private: true,
        text: 'Only the person who asked for it, or an admin, can delete it.',
      });
      expect(idsSince(await driver.publicMessages(), before)).toEqual([result.id, redo.id]);
      await driver.press('alice', result, 'Delete');
      expect(idsSince(await driver.publicMessages(), before)).toEqual([redo.id]);
      await driver.press('admin', redo, 'Delete');
      expect(idsSince(await driver.publicMessages(), before)).toEqual([]);

      // Each command and press reached the framework once.
      expect(h.dispatched).toEqual([
        '/draw',
        'draw:redo',
        'draw:details',
        'draw:delete',
        'draw:delete',
        'draw:delete',
      ]);
      await horde.expectConsistentLedger();
    });
  });
}
