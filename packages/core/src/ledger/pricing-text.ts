/**
 * Text kudos (spec §2.3): the estimate and dry run shown before a request runs, the upfront amount, the
 * worker's reward per job (which is also what the requester pays, plus the burn) and the activation tax.
 * Upstream's formulas, with their constants in `PricingConfig.textPrice`. `P` is a model's size in
 * billions of parameters.
 */
import type { PricingConfig } from '../config.js';
import type { TextGenerateBody } from '../requests/schemas.js';
import { roundKudos } from './money.js';

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/** Length in code points, as upstream (Python) counts characters. */
function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * How much a context of `contextTokens` tokens weighs: `clamp(1.2 + 2.2^log2(C / 1024), 0.1, 30)`
 * (512 → 1.65, 1024 → 2.2, 2048 → 3.4, 4096 → 6.04, ≥ ~21k → 30). Not rounded.
 */
export function contextMultiplier(contextTokens: number, pricing: PricingConfig): number {
  const t = pricing.textPrice;
  const weight = t.contextBase + t.contextGrowth ** Math.log2(contextTokens / t.contextUnit);
  return clamp(weight, t.contextMin, t.contextMax);
}

/** Bonus for models above 13B: `(max(P, 13) / 13)^0.2`. */
export function textSizeBonus(paramsB: number, pricing: PricingConfig): number {
  const t = pricing.textPrice;
  return (Math.max(paramsB, t.sizeBonusFloorB) / t.sizeBonusFloorB) ** t.sizeBonusExponent;
}

/**
 * The estimated kudos of one job: `round(max_length × bonus(P) × P × ctx(max_context_length) / 100, 2)`.
 * `paramsB` is the first requested model's size (1 when the reference does not know it), or null when the
 * request names no model, which prices it as a 13B model. 80 tokens at 2048 context: 7B 19.04, 13B 35.36.
 */
export function textJobEstimate(
  body: TextGenerateBody,
  paramsB: number | null,
  pricing: PricingConfig,
): number {
  const t = pricing.textPrice;
  const size = paramsB ?? t.noModelParamsB;
  const { max_length: maxLength, max_context_length: maxContext } = body.params;
  return roundKudos(
    (maxLength * textSizeBonus(size, pricing) * size * contextMultiplier(maxContext, pricing)) /
      t.estimateDivisor,
  );
}

/** The `dry_run` answer: `(estimate + jobBurn) × n + activationTax`. `paramsB` as in `textJobEstimate`. */
export function textDryRun(body: TextGenerateBody, paramsB: number | null, pricing: PricingConfig): number {
  const perJob = textJobEstimate(body, paramsB, pricing) + pricing.jobBurn;
  return roundKudos(perJob * body.params.n + pricing.activationTax);
}

/**
 * The amount reserved when a text request needs upfront kudos: `round(max_length × Pmax / 21, 2) × n`,
 * where `Pmax` is the largest requested model (so a tiny model cannot shield a huge one), or `20 × n`
 * when the request names no model (`maxParamsB` null).
 */
export function textUpfrontAmount(
  body: TextGenerateBody,
  maxParamsB: number | null,
  pricing: PricingConfig,
): number {
  const t = pricing.textPrice;
  const perJob =
    maxParamsB === null
      ? t.upfrontNoModels
      : roundKudos((body.params.max_length * maxParamsB) / t.upfrontDivisor);
  return roundKudos(perJob * body.params.n);
}

export interface TextRewardInput {
  generatedText: string;
  prompt: string;
  /** The request's `max_length`. */
  maxLength: number;
  /** The size of the model the worker used, or null when the reference does not know it. */
  paramsB: number | null;
  /** The worker's backend is in the validated list (`AI Horde Worker`, `TabbyAPI`, …). */
  validatedBackend: boolean;
  ownerTrusted: boolean;
}

/**
 * The kudos a text worker earns for one job (the `reward` of `submit`), spec §2.3. Tokens are
 * `ceil(characters / 4)` clamped to `[20, max_length]`, the generated text's and the prompt's alike (so the
 * context weighed is at most `max_length`, as upstream does). Known model:
 * `round(tokens × bonus(P) × P / 125 × (0.3 if not validated) × ctx(prompt tokens), 2)`. Unknown model:
 * `ctx(prompt tokens)` for an untrusted owner, `tokens × ctx × 0.027` for a trusted one.
 */
export function textWorkerReward(input: TextRewardInput, pricing: PricingConfig): number {
  const t = pricing.textPrice;
  const tokensOf = (text: string) =>
    Math.min(Math.max(Math.ceil(codePointLength(text) / t.charsPerToken), t.minTokens), input.maxLength);
  const tokens = tokensOf(input.generatedText);
  const context = contextMultiplier(tokensOf(input.prompt), pricing);
  if (input.paramsB === null) {
    return roundKudos(input.ownerTrusted ? tokens * context * t.unknownModelPerToken : context);
  }
  const backend = input.validatedBackend ? 1 : t.unvalidatedBackendFactor;
  const sized = (tokens * textSizeBonus(input.paramsB, pricing) * input.paramsB) / t.rewardDivisor;
  return roundKudos(sized * backend * context);
}

/** What the requester pays for one delivered text job: the worker's reward plus the burn. */
export function textJobCost(reward: number, pricing: PricingConfig): number {
  return roundKudos(reward + pricing.jobBurn);
}

/** A censored (or CSAM-flagged) text job costs the requester only the burn. */
export function textCensoredCost(pricing: PricingConfig): number {
  return pricing.jobBurn;
}

/** The activation tax of a text request. Upstream adds 2 when the request uses someone else's style; not here. */
export function textActivationTax(pricing: PricingConfig): number {
  return pricing.activationTax;
}
