import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config.js';
import { toCenti } from './money.js';
import {
  creditedReward,
  imageUptimeReward,
  imageWorkerReward,
  splitEscrow,
  textUptimeReward,
} from './rewards.js';

const { pricing, workers } = DEFAULT_CONFIG;
const untrusted = { trusted: false, anonymous: false };

describe('generation rewards (spec §2.4)', () => {
  it('pays job kudos × the family multiplier', () => {
    expect(imageWorkerReward(7.61, 1)).toBe(7.61);
    expect(imageWorkerReward(20.57, 2)).toBe(41.14);
    expect(imageWorkerReward(11.6, 8)).toBe(92.8);
  });

  it('credits the reward × the bridge multiplier', () => {
    expect(creditedReward(41.14, 1)).toBe(41.14);
    expect(creditedReward(41.14, 0.9)).toBe(37.03);
    expect(creditedReward(41.14, 0.75)).toBe(30.86);
  });
});

describe('splitEscrow', () => {
  it('holds half of a generation reward while the owner is untrusted', () => {
    expect(splitEscrow(41.14, untrusted, pricing)).toEqual({ balance: 20.57, escrow: 20.57 });
    expect(splitEscrow(7.61, untrusted, pricing)).toEqual({ balance: 3.8, escrow: 3.81 });
  });

  it('holds all of an uptime reward while the owner is untrusted', () => {
    expect(splitEscrow(58, untrusted, pricing, 'uptime')).toEqual({ balance: 0, escrow: 58 });
  });

  it('never escrows a trusted owner or the anonymous account', () => {
    expect(splitEscrow(41.14, { trusted: true, anonymous: false }, pricing)).toEqual({
      balance: 41.14,
      escrow: 0,
    });
    expect(splitEscrow(58, { trusted: false, anonymous: true }, pricing, 'uptime')).toEqual({
      balance: 58,
      escrow: 0,
    });
  });

  it('splits to the hundredth without losing any', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (centi) => {
        const { balance, escrow } = splitEscrow(centi / 100, untrusted, pricing);
        expect(toCenti(balance) + toCenti(escrow)).toBe(centi);
      }),
    );
  });
});

describe('uptime rewards', () => {
  it('pays image workers 50 + 2 per model + 30 with LoRAs', () => {
    expect(imageUptimeReward(0, false, workers)).toBe(50);
    expect(imageUptimeReward(4, true, workers)).toBe(88);
  });

  it('pays text workers by context and model size', () => {
    expect(textUptimeReward(4096, 13, true, workers)).toBe(157.86);
    expect(textUptimeReward(4096, 70, true, workers)).toBe(850);
    expect(textUptimeReward(4096, 70, false, workers)).toBe(255);
    expect(textUptimeReward(4096, 1, true, workers)).toBe(21.25); // max(P/7, 0.25)
    expect(textUptimeReward(4096, null, false, workers)).toBe(42.5); // unknown model: base × 0.5
    expect(textUptimeReward(1_048_576, 7, true, workers)).toBe(textUptimeReward(262_144, 7, true, workers));
  });
});
