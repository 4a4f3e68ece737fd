/** Uptime rewards (spec §2.4): every full period of continuous uptime, paid at the worker's next check-in. */
import { toCenti } from '../ledger/money.js';
import { imageUptimeReward, splitEscrow, textUptimeReward } from '../ledger/rewards.js';
import { bridgeProfile } from '../models/bridges.js';
import type { AccountRecord, WorkerRecord } from '../storage/types.js';
import { isAnonymous } from './accounts.js';
import type { EngineContext } from './context.js';

export function uptimeRewardFor(ctx: EngineContext, worker: WorkerRecord): number {
  const profile = worker.profile;
  if (profile.kind === 'image')
    return imageUptimeReward(profile.models.length, profile.allow_lora, ctx.config.workers);
  const size = profile.models[0] === undefined ? undefined : ctx.models.text(profile.models[0]);
  const validated = bridgeProfile(profile.bridge_agent, {
    kind: 'text',
    permissiveUnknownBridges: ctx.config.workers.permissiveUnknownBridges,
  }).validatedTextBackend;
  return textUptimeReward(
    profile.max_context_length,
    size && !size.inferred ? size.parametersB : null,
    validated,
    ctx.config.workers,
  );
}

export async function creditUptimeIfDue(
  ctx: EngineContext,
  worker: WorkerRecord,
  owner: AccountRecord,
): Promise<void> {
  const now = ctx.clock.now();
  if (worker.maintenance || worker.paused) return;
  if (now - worker.uptimeCreditedAt < ctx.config.workers.uptimePeriodMs) return;
  const split = splitEscrow(
    uptimeRewardFor(ctx, worker),
    { trusted: owner.roles.trusted, anonymous: isAnonymous(owner) },
    ctx.config.pricing,
    'uptime',
  );
  const credited = await ctx.store.creditUptime({
    workerId: worker.id,
    periodMs: ctx.config.workers.uptimePeriodMs,
    reward: toCenti(split.balance),
    escrow: toCenti(split.escrow),
    now,
  });
  if (credited > 0) {
    ctx.events.publish({
      scope: 'worker',
      type: 'uptime',
      workerId: worker.id,
      workerName: worker.name,
      reward: credited / 100,
      at: now,
    });
    ctx.logger.debug({ worker: worker.id, reward: credited / 100 }, 'uptime rewarded');
  }
}
