/**
 * `/kudos` (balance, how kudos are earned, recent movements), `/transfer` (to someone on the same
 * platform), `/models` (what is served now, with queue and ETA) and `/workers` (who is online).
 */
import type { KudosMovement } from '@hordekit/core';
import { defineCommand, definePlugin } from '../framework/define.js';
import { UserError } from '../framework/errors.js';

const MOVEMENT_WORDS: Readonly<Record<string, string>> = {
  activation: 'request fee',
  generation: 'pictures or text drawn for you',
  reward: 'earned by your worker',
  uptime: 'worker uptime bonus',
  floor: 'forgiven at your floor',
  transfer: 'transfer',
  admin: 'set by an admin',
  award: 'award',
  recurring: 'monthly grant',
  escrow: 'released from escrow',
};

function movementLine(movement: KudosMovement): string {
  const sign = movement.amount >= 0 ? '+' : '−';
  const amount = `${sign}${Math.abs(movement.amount).toFixed(movement.amount % 1 === 0 ? 0 : 2)}`;
  const when = new Date(movement.at).toISOString().slice(0, 16).replace('T', ' ');
  return `${when}  ${amount.padStart(8)}  ${MOVEMENT_WORDS[movement.kind] ?? movement.kind}`;
}

export function kudosPlugin() {
  const kudos = defineCommand({
    name: 'kudos',
    private: true,
    description: 'Your kudos balance and recent movements',
    async handler(context) {
      const { client } = context.horde;
      const account = await context.account();
      const summary = await client.account(account.credentials);
      const movements = await client.activity(account.credentials, { limit: 5 });
      const escrow = summary.escrow > 0 ? ` (+${summary.escrow} held until you are trusted)` : '';
      const whose = account.shared
        ? `This bot draws for you with its shared horde account ${summary.alias}, which has ${Math.floor(summary.kudos)} kudos.`
        : `You have ${Math.floor(summary.kudos)} kudos${escrow}. Your horde account is ${summary.alias}.`;
      const lines = [
        whose,
        'Kudos buy queue priority and bigger pictures. They are earned by running a worker (or given by others), never sold.',
      ];
      if (movements.length > 0) lines.push('Recent:', ...movements.map(movementLine));
      await context.ephemeral(lines.join('\n'));
    },
  });

  const transfer = defineCommand({
    name: 'transfer',
    description: 'Give some of your kudos to someone here',
    options: {
      to: { type: 'user', description: 'Who gets them', required: true },
      amount: { type: 'integer', description: 'How many kudos', required: true, min: 1, max: 1_000_000 },
    },
    async handler(context) {
      const { client } = context.horde;
      const { to, amount } = context.options;
      if (to === context.who.id) throw new UserError('You cannot send kudos to yourself.');
      const sender = await context.account();
      if (sender.shared) {
        throw new UserError(
          "You don't have kudos of your own here: this bot draws for you with its shared horde account. Link your own horde API key to send kudos.",
        );
      }
      const recipient = await client.accountFor({
        provider: context.who.platform,
        externalId: to,
        username: `user-${to}`,
      });
      await client.transfer(sender.credentials, { to: recipient.account.alias, amount });
      const left = await client.account(sender.credentials);
      await context.reply(
        `${context.who.displayName} sent ${amount} kudos to ${recipient.account.username}. ${context.who.displayName} has ${Math.floor(left.kudos)} left.`,
      );
    },
  });

  const models = defineCommand({
    name: 'models',
    private: true,
    description: 'Models served right now, with their queues',
    async handler(context) {
      const list = (await context.horde.client.models('image')).filter((model) => model.count > 0);
      if (list.length === 0) {
        await context.ephemeral('No image worker is online right now.');
        return;
      }
      const lines = list
        .sort((a, b) => b.count - a.count)
        .slice(0, 25)
        .map(
          (model) =>
            `${model.name}: ${model.count} worker${model.count === 1 ? '' : 's'}, ${model.jobs} queued, ETA ${model.eta} s`,
        );
      await context.ephemeral(lines.join('\n'));
    },
  });

  const workers = defineCommand({
    name: 'workers',
    private: true,
    description: 'Workers online right now',
    async handler(context) {
      const list = (await context.horde.client.workers()).filter((worker) => worker.online);
      if (list.length === 0) {
        await context.ephemeral('No worker is online right now.');
        return;
      }
      const lines = list
        .slice(0, 25)
        .map(
          (worker) =>
            `${worker.name} (${worker.type}): ${worker.models.slice(0, 3).join(', ')}${worker.maintenance_mode ? ' — in maintenance' : ''}`,
        );
      await context.ephemeral(lines.join('\n'));
    },
  });

  return definePlugin({ name: 'kudos', commands: [kudos, transfer, models, workers] });
}
