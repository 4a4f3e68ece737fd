import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config.js';
import { type ImageGenerateInput, ImageGenerateSchema } from '../requests/schemas.js';
import { imageBatchSize, textBatchSize } from './batching.js';

const { jobs } = DEFAULT_CONFIG;
const image = (params: ImageGenerateInput['params'], extra: Partial<ImageGenerateInput> = {}) =>
  ImageGenerateSchema.parse({ prompt: 'a fox', ...extra, params });
const bigWorker = { amount: 4, maxPixels: 1024 * 1024 };

describe('imageBatchSize (spec §3.4)', () => {
  it('fits round(max_pixels / 3.5 × amount / w·h) in [1, amount], then the remaining jobs', () => {
    expect(imageBatchSize(image({}), bigWorker, 10, jobs)).toBe(4); // 4.57 → 5 → 4
    expect(imageBatchSize(image({}), bigWorker, 3, jobs)).toBe(3);
    expect(imageBatchSize(image({}), { amount: 4, maxPixels: 512 * 512 }, 10, jobs)).toBe(1); // 1.14
    expect(
      imageBatchSize(image({ width: 1024, height: 1024 }), { amount: 4, maxPixels: 512 * 512 }, 10, jobs),
    ).toBe(1);
    expect(imageBatchSize(image({}), { amount: 8, maxPixels: 1024 * 1024 }, 10, jobs)).toBe(8); // 9.14 → 8
  });

  it('shrinks for post-processors, more for heavy ones and transparency', () => {
    expect(imageBatchSize(image({ post_processing: ['GFPGAN'] }), bigWorker, 10, jobs)).toBe(3); // 3.27
    expect(imageBatchSize(image({ post_processing: ['RealESRGAN_x4plus'] }), bigWorker, 10, jobs)).toBe(2); // 1.81
    expect(imageBatchSize(image({ transparent: true }), bigWorker, 10, jobs)).toBe(3); // 2.54
  });

  it('is 1 with disable_batching', () => {
    expect(imageBatchSize(image({}, { disable_batching: true }), bigWorker, 10, jobs)).toBe(1);
  });
});

describe('textBatchSize', () => {
  it('is min(amount, remaining), 1 with disable_batching', () => {
    expect(textBatchSize(4, 10, false)).toBe(4);
    expect(textBatchSize(4, 2, false)).toBe(2);
    expect(textBatchSize(4, 10, true)).toBe(1);
  });
});
