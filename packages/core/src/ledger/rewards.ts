/**
 * What workers earn (spec §2.4): the generation reward of an image job, the bridge multiplier, the
 * trust escrow split, and the uptime rewards paid every `uptimePeriodMs` of continuous uptime.
 * Text generation rewards are in `pricing-text.ts` (`textWorkerReward`).
 */
import type { PricingConfig, WorkerConfig } from '../config.js';
import { fromCenti, roundKudos, toCenti } from './money.js';

/**
 * The reward for one image job, as `submit` returns it: the job's kudos × the multiplier of the model family
 * the worker used, rounded to 2 decimals. The requester's surcharges (source image, upscalers, fast
 * workers, deny-list, burn) are not paid to anyone.
 */
export function imageWorkerReward(jobKudos: number, baselineMultiplier: number): number {
  return roundKudos(jobKudos * baselineMultiplier);
}

/**
 * What is credited for a `reward`: × the bridge multiplier (1 for current official image bridges,
 * 0.9 older official, 0.75 others; always 1 for text workers).
 */
export function creditedReward(reward: number, bridgeMultiplier: number): number {
  return roundKudos(reward * bridgeMultiplier);
}

export interface EscrowSplit {
  /** Credited to the owner's spendable balance. */
  balance: number;
  /** Held in the trust escrow until the owner becomes trusted. */
  escrow: number;
}

export interface RewardedOwner {
  trusted: boolean;
  /** The shared anonymous account is never escrowed. */
  anonymous: boolean;
}

/**
 * Splits a reward between the owner's balance and the trust escrow: an untrusted owner gets
 * `untrustedEscrowShare` (half) of a generation reward and `untrustedUptimeEscrowShare` (all) of an uptime
 * reward in escrow. Trusted owners and the anonymous account get everything. The parts add up to `amount`
 * to the hundredth.
 */
export function splitEscrow(
  amount: number,
  owner: RewardedOwner,
  pricing: PricingConfig,
  source: 'generation' | 'uptime' = 'generation',
): EscrowSplit {
  if (owner.trusted || owner.anonymous) return { balance: amount, escrow: 0 };
  const share = source === 'uptime' ? pricing.untrustedUptimeEscrowShare : pricing.untrustedEscrowShare;
  const total = toCenti(amount);
  const escrow = Math.round(total * share);
  return { balance: fromCenti(total - escrow), escrow: fromCenti(escrow) };
}

/** Uptime reward of an image worker: `50 + 2 × models offered (+30 if it accepts LoRAs)`. */
export function imageUptimeReward(modelsCount: number, allowLora: boolean, workers: WorkerConfig): number {
  const lora = allowLora ? workers.imageUptimeLoraBonus : 0;
  return workers.imageUptimeBase + workers.imageUptimePerModel * modelsCount + lora;
}

/**
 * Uptime reward of a text worker: `base = 25 + 15 × min(max_context_length, 262144) / 1024`, then
 * `× 0.5` for a model of unknown size (`paramsB` null), else `× (0.3 if not validated) × max(P / 7, 0.25)`.
 * 13B at 4096 context → 157.86; 70B → 850.
 */
export function textUptimeReward(
  maxContextLength: number,
  paramsB: number | null,
  validatedBackend: boolean,
  workers: WorkerConfig,
): number {
  const context = Math.min(maxContextLength, workers.textUptimeMaxContext);
  const base = workers.textUptimeBase + (workers.textUptimePerKiloContext * context) / 1024;
  if (paramsB === null) return roundKudos(base * workers.textUptimeUnknownModelFactor);
  const backend = validatedBackend ? 1 : workers.textUptimeUnvalidatedFactor;
  const size = Math.max(paramsB / workers.textUptimeParamsDivisorB, workers.textUptimeMinSizeFactor);
  return roundKudos(base * backend * size);
}
