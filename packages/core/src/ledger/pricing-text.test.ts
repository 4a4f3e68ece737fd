import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config.js';
import { type TextGenerateInput, TextGenerateSchema } from '../requests/schemas.js';
import {
  contextMultiplier,
  textActivationTax,
  textCensoredCost,
  textDryRun,
  textJobCost,
  textJobEstimate,
  textSizeBonus,
  textUpfrontAmount,
  textWorkerReward,
} from './pricing-text.js';

const pricing = DEFAULT_CONFIG.pricing;
const text = (params: TextGenerateInput['params'] = {}, prompt = 'Once upon a time') =>
  TextGenerateSchema.parse({ prompt, params });

describe('contextMultiplier and textSizeBonus (spec §2.3)', () => {
  it.each([
    [512, 1.655],
    [1024, 2.2],
    [2048, 3.4],
    [4096, 6.04],
    [8192, 11.85],
    [16384, 24.63],
    [21_000, 30],
    [1_048_576, 30],
  ])('ctx(%i) = %f', (context, expected) => {
    expect(contextMultiplier(context, pricing)).toBeCloseTo(expected, 2);
  });

  it('is clamped at 0.1 below', () => {
    expect(contextMultiplier(1, pricing)).toBeGreaterThanOrEqual(0.1);
  });

  it('gives no bonus up to 13B', () => {
    expect(textSizeBonus(7, pricing)).toBe(1);
    expect(textSizeBonus(13, pricing)).toBe(1);
    expect(textSizeBonus(70, pricing)).toBeCloseTo(1.4003, 4);
  });
});

describe('textJobEstimate and textDryRun', () => {
  const body = text({ max_length: 80, max_context_length: 2048 });

  it.each([
    [7, 19.04],
    [13, 35.36],
    [24, 73.8],
    [70, 266.62],
  ])('%iB, 80 tokens at 2048 context → %f per job', (paramsB, expected) => {
    expect(textJobEstimate(body, paramsB, pricing)).toBe(expected);
  });

  it('prices a request naming no model as 13B', () => {
    expect(textJobEstimate(body, null, pricing)).toBe(35.36);
  });

  it('dry run = (estimate + 1) × n + 1', () => {
    expect(textDryRun(body, 13, pricing)).toBe(37.36);
    expect(textDryRun(text({ n: 3 }), 7, pricing)).toBe(61.12);
  });
});

describe('textUpfrontAmount', () => {
  it('uses the largest model: round(max_length × Pmax / 21, 2) × n', () => {
    expect(textUpfrontAmount(text({ max_length: 80 }), 13, pricing)).toBe(49.52);
    expect(textUpfrontAmount(text({ max_length: 512, n: 2 }), 70, pricing)).toBe(3413.34);
  });

  it('is 20 per job with no model named', () => {
    expect(textUpfrontAmount(text({ n: 4 }), null, pricing)).toBe(80);
  });
});

describe('textWorkerReward (spec §2.3 worked example: 512 tokens, long prompt, max_length 512)', () => {
  const reward = (paramsB: number | null, validatedBackend: boolean, ownerTrusted = false) =>
    textWorkerReward(
      {
        generatedText: 'a'.repeat(2048),
        prompt: 'b'.repeat(10_000),
        maxLength: 512,
        paramsB,
        validatedBackend,
        ownerTrusted,
      },
      pricing,
    );

  it.each([
    [7, 47.44, 14.23],
    [13, 88.1, 26.43],
    [70, 664.31, 199.29],
  ])('%iB → %f validated, %f not validated (×0.3)', (paramsB, validated, unvalidated) => {
    expect(reward(paramsB, true)).toBe(validated);
    expect(reward(paramsB, false)).toBe(unvalidated);
  });

  it('pays ctx(C) for an unknown model, tokens × ctx × 0.027 to a trusted owner', () => {
    expect(reward(null, true)).toBe(1.65);
    expect(reward(null, true, true)).toBe(22.87);
  });

  it('counts at least 20 tokens and at most max_length, in code points', () => {
    const short = textWorkerReward(
      {
        generatedText: 'hi',
        prompt: 'x',
        maxLength: 512,
        paramsB: 13,
        validatedBackend: true,
        ownerTrusted: false,
      },
      pricing,
    );
    // 20 tokens, context 20: 20 × 13 / 125 × ctx(20)
    expect(short).toBe(Math.round(((20 * 13) / 125) * contextMultiplier(20, pricing) * 100) / 100);
    const emoji = textWorkerReward(
      {
        generatedText: '😀'.repeat(400),
        prompt: 'x',
        maxLength: 512,
        paramsB: 13,
        validatedBackend: true,
        ownerTrusted: false,
      },
      pricing,
    );
    const ascii = textWorkerReward(
      {
        generatedText: 'a'.repeat(400),
        prompt: 'x',
        maxLength: 512,
        paramsB: 13,
        validatedBackend: true,
        ownerTrusted: false,
      },
      pricing,
    );
    expect(emoji).toBe(ascii);
  });
});

describe('what the text requester pays', () => {
  it('pays the reward + 1 per job, 1 for a censored job, 1 of activation tax', () => {
    expect(textJobCost(88.1, pricing)).toBe(89.1);
    expect(textCensoredCost(pricing)).toBe(1);
    expect(textActivationTax(pricing)).toBe(1);
  });
});

describe('docs/kudos.md agrees with the code', () => {
  // Biome pads markdown tables, so compare cells rather than lines.
  const rows = readFileSync(new URL('../../../../docs/kudos.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  const body = text({ max_length: 80, max_context_length: 2048 }, 'x'.repeat(8000));
  const money = (kudos: number) => kudos.toFixed(2);

  it.each([
    ['13B, 2048 context, 80 tokens', true],
    ['same, backend not validated', false],
  ] as const)('text example: %s', (label, validatedBackend) => {
    const reward = textWorkerReward(
      {
        generatedText: 'y'.repeat(320),
        prompt: body.prompt,
        maxLength: 80,
        paramsB: 13,
        validatedBackend,
        ownerTrusted: true,
      },
      pricing,
    );
    const charge = textJobCost(reward, pricing);
    const activation = textActivationTax(pricing);
    const cells = [
      label,
      money(textJobEstimate(body, 13, pricing)),
      money(textDryRun(body, 13, pricing)),
      money(textUpfrontAmount(body, 13, pricing)),
      money(reward),
      money(charge),
      money(activation),
      money(activation + charge * body.params.n),
    ];
    expect(rows).toContainEqual(cells);
  });
});
