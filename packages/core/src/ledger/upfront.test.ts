import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config.js';
import {
  type ImageGenerateInput,
  ImageGenerateSchema,
  type TextGenerateInput,
  TextGenerateSchema,
} from '../requests/schemas.js';
import {
  downgradeImage,
  downgradeText,
  imageMaxResolution,
  imageUpfrontReason,
  KNOWN_LCM_LORAS,
  textMaxTokens,
  textUpfrontReason,
  usesLcm,
} from './upfront.js';

const { freeTier } = DEFAULT_CONFIG;
const image = (params: ImageGenerateInput['params'], extra: Partial<ImageGenerateInput> = {}) =>
  ImageGenerateSchema.parse({ prompt: 'a fox', ...extra, params });
const text = (params: TextGenerateInput['params'], extra: Partial<TextGenerateInput> = {}) =>
  TextGenerateSchema.parse({ prompt: 'Once', ...extra, params });

describe('imageMaxResolution', () => {
  it('follows the load: clamp(1024 + 10 × threads − round(0.9 × queued), 576, 1024)', () => {
    expect(imageMaxResolution({ activeThreads: 0, queuedJobs: 0 }, freeTier, 'stable_diffusion_1')).toBe(
      1024,
    );
    expect(imageMaxResolution({ activeThreads: 10, queuedJobs: 200 }, freeTier, 'stable_diffusion_1')).toBe(
      944,
    );
    expect(imageMaxResolution({ activeThreads: 0, queuedJobs: 5000 }, freeTier, 'stable_diffusion_1')).toBe(
      576,
    );
    expect(imageMaxResolution({ activeThreads: 50, queuedJobs: 0 }, freeTier, 'stable_diffusion_1')).toBe(
      1024,
    );
  });

  it('is at least 768 for SD2 and 1024 for the large families', () => {
    const busy = { activeThreads: 0, queuedJobs: 5000 };
    expect(imageMaxResolution(busy, freeTier, 'stable_diffusion_2')).toBe(768);
    for (const baseline of [
      'stable_diffusion_xl',
      'stable_cascade',
      'flux_1',
      'qwen_image',
      'z_image',
    ] as const) {
      expect(imageMaxResolution(busy, freeTier, baseline)).toBe(1024);
    }
  });
});

describe('imageUpfrontReason (spec §2.5)', () => {
  const limits = { maxResolution: 768, lcm: false };
  const reason = (
    body: ReturnType<typeof image>,
    extra: Partial<typeof limits & { modelMaxSteps: number }> = {},
  ) => imageUpfrontReason(body, { ...limits, ...extra }, freeTier)?.code ?? null;

  it('lets a free-tier request through', () => {
    expect(reason(image({ steps: 30 }))).toBeNull();
    expect(reason(image({ width: 768, height: 768, steps: 40 }))).toBeNull();
  });

  it('requires upfront kudos for fast workers only, first', () => {
    const result = imageUpfrontReason(
      image({ width: 1024, height: 1024 }, { slow_workers: false }),
      limits,
      freeTier,
    );
    expect(result?.code).toBe('fast_workers');
    expect(result?.message).toMatch(/slow_workers/);
  });

  it('requires upfront kudos above max_res²', () => {
    expect(reason(image({ width: 1024, height: 640 }))).toBe('resolution');
    expect(reason(image({ width: 1024, height: 576 }))).toBeNull(); // 589,824 ≤ 768²
  });

  it('limits LCM to 10 accurate steps: sampler, LoRA id or version, or the caller says so', () => {
    expect(reason(image({ sampler_name: 'lcm', steps: 11 }))).toBe('lcm_steps');
    expect(reason(image({ sampler_name: 'lcm', steps: 10 }))).toBeNull();
    expect(reason(image({ steps: 12, loras: [{ name: '216190' }] }))).toBe('lcm_steps');
    expect(reason(image({ steps: 12, loras: [{ name: '268475', is_version: true }] }))).toBe('lcm_steps');
    expect(reason(image({ steps: 12 }), { lcm: true })).toBe('lcm_steps');
    expect(usesLcm(image({ loras: [{ name: '12345' }] }))).toBe(false);
    expect(KNOWN_LCM_LORAS.ids.size + KNOWN_LCM_LORAS.versions.size).toBe(10);
  });

  it('limits accurate steps to the model max_steps (40 by default)', () => {
    expect(reason(image({ steps: 41 }))).toBe('max_steps');
    expect(reason(image({ steps: 21, sampler_name: 'k_heun' }))).toBe('max_steps');
    expect(reason(image({ steps: 41, sampler_name: 'k_dpm_adaptive' }))).toBeNull(); // counts 40
    expect(reason(image({ steps: 50 }), { modelMaxSteps: 60 })).toBeNull();
  });

  it('limits ControlNet to 20 accurate steps', () => {
    expect(reason(image({ steps: 21, control_type: 'canny' }, { source_image: 'aGk=' }))).toBe(
      'controlnet_steps',
    );
    expect(reason(image({ steps: 20, control_type: 'canny' }, { source_image: 'aGk=' }))).toBeNull();
  });
});

describe('downgradeImage', () => {
  const side = fc.integer({ min: 1, max: 48 }).map((k) => k * 64);

  it('fits max_res² with multiples of 64, never enlarging a side', () => {
    fc.assert(
      fc.property(side, side, fc.integer({ min: 576, max: 1024 }), (width, height, maxResolution) => {
        const out = downgradeImage(image({ width, height }), { maxResolution }, freeTier).params;
        if (width * height <= maxResolution ** 2) {
          expect([out.width, out.height]).toEqual([width, height]);
          return;
        }
        expect(out.width % 64).toBe(0);
        expect(out.height % 64).toBe(0);
        expect(out.width * out.height).toBeLessThanOrEqual(maxResolution ** 2);
        expect(out.width).toBeLessThanOrEqual(width);
        expect(out.height).toBeLessThanOrEqual(height);
        if (Math.min(width, height) >= 512) expect(out.width * out.height).toBeGreaterThanOrEqual(512 * 512);
      }),
    );
  });

  it('keeps the aspect ratio', () => {
    const out = downgradeImage(image({ width: 1536, height: 1024 }), { maxResolution: 768 }, freeTier).params;
    expect([out.width, out.height]).toEqual([896, 576]);
    const square = downgradeImage(
      image({ width: 2048, height: 2048 }),
      { maxResolution: 1000 },
      freeTier,
    ).params;
    expect([square.width, square.height]).toEqual([960, 960]);
  });

  it('cuts steps to the model max_steps (30 by default, 20 ControlNet, 10 LCM, half for second order, ≥ 5)', () => {
    const steps = (
      params: ImageGenerateInput['params'],
      maxSteps?: number,
      extra: Partial<ImageGenerateInput> = {},
    ) =>
      downgradeImage(
        image(params, extra),
        { maxResolution: 1024, ...(maxSteps ? { maxSteps } : {}) },
        freeTier,
      ).params.steps;
    expect(steps({ steps: 50 })).toBe(30);
    expect(steps({ steps: 50 }, 45)).toBe(45);
    expect(steps({ steps: 25 })).toBe(25);
    expect(steps({ steps: 40, sampler_name: 'k_dpmpp_sde' })).toBe(15);
    expect(steps({ steps: 40, control_type: 'canny' }, undefined, { source_image: 'aGk=' })).toBe(20);
    expect(steps({ steps: 20, sampler_name: 'lcm' })).toBe(10);
    expect(steps({ steps: 20, sampler_name: 'k_heun', loras: [{ name: '195519' }] })).toBe(5);
  });

  it('forces slow workers and leaves the original body alone', () => {
    const body = image({ width: 1024, height: 1024, steps: 60 }, { slow_workers: false });
    const out = downgradeImage(body, { maxResolution: 768 }, freeTier);
    expect(out.slow_workers).toBe(true);
    expect(body.slow_workers).toBe(false);
    expect(body.params.steps).toBe(60);
    expect(imageUpfrontReason(out, { maxResolution: 768, lcm: false }, freeTier)).toBeNull();
  });
});

describe('text free tier', () => {
  it('textMaxTokens = clamp(512 + 5 × threads − round(0.9 × queued), 256, 512)', () => {
    expect(textMaxTokens({ activeThreads: 0, queuedJobs: 0 }, freeTier)).toBe(512);
    expect(textMaxTokens({ activeThreads: 10, queuedJobs: 100 }, freeTier)).toBe(472);
    expect(textMaxTokens({ activeThreads: 0, queuedJobs: 1000 }, freeTier)).toBe(256);
  });

  it('requires upfront kudos over max_tokens or for fast workers only', () => {
    expect(textUpfrontReason(text({ max_length: 600, max_context_length: 4096 }), 512)?.code).toBe(
      'max_length',
    );
    expect(textUpfrontReason(text({}, { slow_workers: false }), 512)?.code).toBe('fast_workers');
    expect(textUpfrontReason(text({ max_length: 512, max_context_length: 4096 }), 512)).toBeNull();
  });

  it('downgrades max_length and slow_workers', () => {
    const out = downgradeText(
      text({ max_length: 600, max_context_length: 4096 }, { slow_workers: false }),
      472,
    );
    expect(out.params.max_length).toBe(472);
    expect(out.slow_workers).toBe(true);
    expect(downgradeText(text({ max_length: 80 }), 472).params.max_length).toBe(80);
  });
});
