/**
 * The built-in demo: a requester sends a few image and text requests, a demo worker (no GPU, no model:
 * its "images" are placeholders, clearly marked) serves them, and every step is narrated. It shows the
 * scheduler and the ledger at work until the HTTP server and the real worker node land.
 */
import { DEMO_IMAGE_MODEL, fromCenti, type Horde } from '@hordekit/core';

const DEMO_BRIDGE = 'hordekit-worker:0.1.0:https://github.com/hordekit/hordekit';
const DEMO_TEXT_MODEL = 'hordekit-demo-text';
/** A 1×1 WebP, base64: the demo worker's stand-in for an image. It is not AI output. */
const PLACEHOLDER_WEBP = 'UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAQAcJaQAA3AA/v3AgAA=';

export type Say = (line: string) => void;

async function demoAccount(horde: Horde, role: string) {
  const { account } = await horde.accountForIdentity('hordekit-demo', role, { username: `demo ${role}` });
  return account;
}

export async function runDemo(horde: Horde, jobs: number, say: Say): Promise<void> {
  const requester = await demoAccount(horde, 'requester');
  const owner = await demoAccount(horde, 'worker-owner');
  const asRequester = { accountId: requester.id };
  const asOwner = { accountId: owner.id };
  say(`requester ${requester.username}#${requester.id} has ${fromCenti(requester.balance)} kudos`);
  say(`worker owner ${owner.username}#${owner.id} has ${fromCenti(owner.balance)} kudos`);

  const ids: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const text = i % 3 === 2;
    const result = text
      ? await horde.generateText(asRequester, {
          prompt: `Demo story #${i + 1}: once upon a time`,
          models: [DEMO_TEXT_MODEL],
        })
      : await horde.generateImage(asRequester, {
          prompt: `demo picture #${i + 1}: a lighthouse at dusk`,
          models: [DEMO_IMAGE_MODEL],
          nsfw: false,
          params: { width: 512, height: 512, steps: 20 },
        });
    const check = await horde.checkRequest(result.id!);
    say(
      `queued ${text ? 'text' : 'image'} request ${result.id} (position ${check.queue_position}, price ${result.kudos} kudos per job)`,
    );
    ids.push(result.id!);
  }

  for (;;) {
    const image = await horde.popImage(asOwner, {
      name: 'hordekit demo worker (placeholder images, not AI)',
      models: [DEMO_IMAGE_MODEL],
      bridge_agent: DEMO_BRIDGE,
      nsfw: false,
    });
    const text = image.job
      ? null
      : await horde.popText(asOwner, {
          name: 'hordekit demo scribe (canned text, not AI)',
          models: [DEMO_TEXT_MODEL],
          bridge_agent: DEMO_BRIDGE,
          max_length: 512,
        });
    const job = image.job ?? text?.job;
    if (!job) {
      const skipped = { ...image.skipped, ...text?.skipped };
      if (Object.keys(skipped).length)
        say(`demo workers found nothing more they can serve (skipped: ${JSON.stringify(skipped)})`);
      break;
    }
    say(
      `demo worker took ${job.ids.length} job(s) of request ${job.requestId} (model ${job.model}, ttl ${job.ttl}s)`,
    );
    for (const id of job.ids) {
      const { reward } = image.job
        ? await horde.submitImage(asOwner, {
            id,
            generation: PLACEHOLDER_WEBP,
            seed: Number(job.payload.seed) || 0,
          })
        : await horde.submitText(asOwner, {
            id,
            generation: 'and they all lived happily ever after. (demo text, not AI)',
          });
      say(`  submitted job ${id}: the worker earned ${reward} kudos`);
    }
  }

  for (const id of ids) {
    const status = await horde.requestStatus(id);
    say(
      `request ${id}: ${status.done ? 'done' : 'not done'}, ${status.generations.length} result(s), cost ${status.kudos} kudos`,
    );
  }
  const [after, ownerAfter, totals] = await Promise.all([
    horde.getAccount(requester.id),
    horde.getAccount(owner.id),
    horde.store.ledgerTotals(),
  ]);
  say(
    `requester now has ${fromCenti(after!.balance)} kudos; worker owner ${fromCenti(ownerAfter!.balance)} (+${fromCenti(ownerAfter!.escrow)} in escrow until trusted)`,
  );
  say(
    `ledger: ${fromCenti(totals.minted)} kudos minted, ${fromCenti(totals.burnt)} burnt, ` +
      `${fromCenti(totals.balances + totals.escrow)} held — ${totals.balances + totals.escrow === totals.minted - totals.burnt ? 'balanced' : 'NOT balanced'}`,
  );
}
