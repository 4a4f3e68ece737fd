import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config.js';
import { type ImageGenerateInput, ImageGenerateSchema } from '../requests/schemas.js';
import { imageJobTtlSeconds, textJobTtlSeconds } from './ttl.js';

const { jobs } = DEFAULT_CONFIG;
const image = (params: ImageGenerateInput['params'], extra: Partial<ImageGenerateInput> = {}) =>
  ImageGenerateSchema.parse({ prompt: 'a fox', ...extra, params });
const plain = { heavyModel: false, extraSlowWorker: false };

describe('imageJobTtlSeconds (spec §3.5)', () => {
  it('is 30 + accurate steps × 2 × (w·h / 512²), at least 150', () => {
    expect(imageJobTtlSeconds(image({ steps: 30 }), plain, jobs)).toBe(150); // 90
    expect(imageJobTtlSeconds(image({ width: 1024, height: 1024, steps: 30 }), plain, jobs)).toBe(270);
    const sde = image({ width: 1024, height: 1024, steps: 30, sampler_name: 'k_dpmpp_sde' });
    expect(imageJobTtlSeconds(sde, plain, jobs)).toBe(510);
  });

  it('doubles with ControlNet and triples for heavy models, before the minimum', () => {
    const cn = image({ width: 768, height: 768, steps: 20, control_type: 'canny' }, { source_image: 'aGk=' });
    expect(imageJobTtlSeconds(cn, plain, jobs)).toBe(240); // (30 + 90) × 2
    const flux = image({ width: 1024, height: 1024, steps: 8 });
    expect(imageJobTtlSeconds(flux, { ...plain, heavyModel: true }, jobs)).toBe(282); // (30 + 64) × 3
  });

  it('triples for an extra-slow worker after the minimum', () => {
    expect(imageJobTtlSeconds(image({ steps: 30 }), { ...plain, extraSlowWorker: true }, jobs)).toBe(450);
  });

  it('rounds up to a whole second', () => {
    expect(imageJobTtlSeconds(image({ width: 576, height: 576, steps: 50 }), plain, jobs)).toBe(157); // 156.56
  });
});

describe('textJobTtlSeconds', () => {
  it('is a fixed 150', () => {
    expect(textJobTtlSeconds(jobs)).toBe(150);
  });
});
