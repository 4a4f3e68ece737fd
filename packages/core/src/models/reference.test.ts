import { describe, expect, it } from 'vitest';
import { baselineMultiplier, inferBaseline, isHeavyBaseline, normalizeBaseline } from './baselines.js';
import { DEFAULT_IMAGE_MODELS, DEMO_IMAGE_MODEL } from './default-image-models.js';
import { baselineOf, createModelReference } from './reference.js';
import type { ImageBaseline } from './types.js';

const reference = createModelReference();

describe('image reference', () => {
  it('looks up by exact name, then ignoring case', () => {
    expect(reference.image('Deliberate')?.baseline).toBe('stable_diffusion_1');
    expect(reference.image('deliberate')?.name).toBe('Deliberate');
    expect(reference.image('SDXL 1.0')?.baseline).toBe('stable_diffusion_xl');
    expect(reference.image('flux.1-schnell FP8 (compact)')?.name).toBe('Flux.1-Schnell fp8 (Compact)');
  });

  it('returns undefined for unknown names', () => {
    expect(reference.image('Some Model Nobody Has')).toBeUndefined();
    expect(reference.image('')).toBeUndefined();
  });

  it('knows the well-known models with their flags', () => {
    for (const name of [
      'stable_diffusion',
      'stable_diffusion_inpainting',
      'Deliberate',
      'Anything Diffusion',
      'AbsoluteReality',
      'Dreamshaper',
      "ICBINP - I Can't Believe It's Not Photography",
      'stable_diffusion_2.1',
      'Stable Diffusion 2 Depth',
      'pix2pix',
      'SDXL 1.0',
      'AlbedoBase XL (SDXL)',
      'Juggernaut XL',
      'Pony Diffusion XL',
      'DreamShaper XL',
      'Stable Cascade 1.0',
      'Flux.1-Schnell fp8 (Compact)',
      'Flux.1-Schnell fp16 (Compact)',
      'Flux.1-Dev fp8',
      DEMO_IMAGE_MODEL,
    ]) {
      expect(reference.image(name), name).toBeDefined();
    }
    expect(reference.image('stable_diffusion_inpainting')?.inpainting).toBe(true);
    expect(reference.image('stable_diffusion')?.inpainting).toBe(false);
    expect(reference.image('pix2pix')?.requiresSourceImage).toBe(true);
    expect(reference.image('Stable Diffusion 2 Depth')).toMatchObject({
      baseline: 'stable_diffusion_2',
      requiresSourceImage: true,
    });
    expect(reference.image('Stable Cascade 1.0')?.baseline).toBe('stable_cascade');
    expect(reference.image('Flux.1-Dev fp8')?.baseline).toBe('flux_1');
    expect(reference.image('Flux.1-Schnell fp8 (Compact)')?.requirements.max_steps).toBe(8);
    expect(reference.image('Pony Diffusion XL')).toMatchObject({
      nsfw: true,
      requirements: { clip_skip: 2 },
    });
    expect(reference.image(DEMO_IMAGE_MODEL)).toMatchObject({ baseline: 'stable_diffusion_1', nsfw: false });
  });

  it('lists every known image model once', () => {
    const names = reference.imageModels().map((model) => model.name);
    expect(names).toHaveLength(DEFAULT_IMAGE_MODELS.length);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(20);
    expect(names.length).toBeLessThanOrEqual(40);
  });

  it('adds and overrides entries, with defaults for missing fields', () => {
    const custom = createModelReference({
      image: [
        { name: 'Deliberate', baseline: 'stable_diffusion_1', nsfw: false },
        { name: 'My SDXL Finetune', baseline: 'stable_diffusion_xl' },
        { name: 'Upstream SD2', baseline: 'stable_diffusion_2_768', requirements: null },
        { name: 'Mystery Flux Mix' },
        { name: 'Mystery Inpainting' },
        { name: '   ' },
      ],
    });
    expect(custom.image('Deliberate')?.nsfw).toBe(false);
    expect(custom.image('My SDXL Finetune')).toEqual({
      name: 'My SDXL Finetune',
      baseline: 'stable_diffusion_xl',
      nsfw: false,
      inpainting: false,
      requiresSourceImage: false,
      requirements: {},
    });
    expect(custom.image('Upstream SD2')?.baseline).toBe('stable_diffusion_2');
    expect(custom.image('Mystery Flux Mix')?.baseline).toBe('flux_1');
    expect(custom.image('Mystery Inpainting')?.inpainting).toBe(true);
    expect(custom.imageModels()).toHaveLength(DEFAULT_IMAGE_MODELS.length + 4);
  });

  it('can start empty', () => {
    const empty = createModelReference({ includeDefaults: false, image: [{ name: 'only' }] });
    expect(empty.imageModels().map((model) => model.name)).toEqual(['only']);
    expect(empty.image('stable_diffusion')).toBeUndefined();
    expect(empty.text('koboldcpp/LLaMA2-13B-Psyfighter2')).toMatchObject({ parametersB: 13, inferred: true });
  });

  it('does not let callers change the reference', () => {
    const samplers = ['k_euler'];
    const custom = createModelReference({ image: [{ name: 'M', requirements: { samplers } }] });
    samplers.push('k_lms');
    expect(custom.image('M')?.requirements.samplers).toEqual(['k_euler']);
    expect(Object.isFrozen(custom.image('M'))).toBe(true);
  });
});

describe('baselines', () => {
  it('uses the reference first, then the name', () => {
    expect(baselineOf(reference, 'Juggernaut XL')).toBe('stable_diffusion_xl');
    expect(baselineOf(reference, 'stable_diffusion_2.1')).toBe('stable_diffusion_2');
    expect(baselineOf(reference, DEMO_IMAGE_MODEL)).toBe('stable_diffusion_1');
  });

  it('infers unknown names from patterns', () => {
    const cases: [string, ImageBaseline][] = [
      ['Some Random SDXL Merge', 'stable_diffusion_xl'],
      ['RealVisXL', 'stable_diffusion_xl'],
      ['Foo XL v2', 'stable_diffusion_xl'],
      ['Flux.1-Krea-Dev', 'flux_1'],
      ['Stable Cascade Lite', 'stable_cascade'],
      ['Qwen-Image-Edit', 'qwen_image'],
      ['z-image-base', 'z_image'],
      ['Z_Image_Turbo', 'z_image'],
      ['my-sd2-model', 'stable_diffusion_2'],
      ['Some Model 2.1', 'stable_diffusion_2'],
      ['Pixel Art Diffusion', 'stable_diffusion_1'],
      ['Xlarge Thing', 'stable_diffusion_1'],
      ['anything', 'stable_diffusion_1'],
    ];
    for (const [name, baseline] of cases) expect(inferBaseline(name), name).toBe(baseline);
    expect(baselineOf(reference, 'Brand New Flux Merge')).toBe('flux_1');
  });

  it('maps upstream baseline names', () => {
    expect(normalizeBaseline('stable_diffusion_2_512')).toBe('stable_diffusion_2');
    expect(normalizeBaseline('FLUX_1')).toBe('flux_1');
    expect(normalizeBaseline('stable_diffusion_3')).toBeUndefined();
  });

  it('prices each family (spec §2.2)', () => {
    const plain = { qrCode: false, hiresFix: false };
    expect(baselineMultiplier('stable_diffusion_1', plain)).toBe(1);
    expect(baselineMultiplier('stable_diffusion_2', { qrCode: true, hiresFix: true })).toBe(1);
    expect(baselineMultiplier('stable_diffusion_xl', plain)).toBe(2);
    expect(baselineMultiplier('stable_diffusion_xl', { qrCode: true, hiresFix: false })).toBe(4);
    expect(baselineMultiplier('stable_cascade', plain)).toBe(4);
    expect(baselineMultiplier('stable_cascade', { qrCode: false, hiresFix: true })).toBe(7);
    expect(baselineMultiplier('flux_1', plain)).toBe(8);
    expect(baselineMultiplier('z_image', plain)).toBe(8);
    expect(baselineMultiplier('qwen_image', plain)).toBe(12);
  });

  it('marks Flux, Qwen-Image and Z-Image as heavy', () => {
    expect(isHeavyBaseline('flux_1')).toBe(true);
    expect(isHeavyBaseline('qwen_image')).toBe(true);
    expect(isHeavyBaseline('z_image')).toBe(true);
    expect(isHeavyBaseline('stable_diffusion_xl')).toBe(false);
    expect(isHeavyBaseline('stable_cascade')).toBe(false);
  });
});

describe('text reference', () => {
  it('looks up known models exactly and ignoring case', () => {
    expect(reference.text('koboldcpp/LLaMA2-13B-Psyfighter2')).toEqual({
      name: 'koboldcpp/LLaMA2-13B-Psyfighter2',
      parametersB: 13,
    });
    expect(reference.text('KOBOLDCPP/llama2-13b-psyfighter2')?.parametersB).toBe(13);
    expect(reference.text('aphrodite/NeverSleep/Llama-3-Lumimaid-8B-v0.1')?.parametersB).toBe(8);
    expect(reference.text('elinas/chronos-70b-v2')?.parametersB).toBe(70);
    expect(reference.text('mistralai/Mixtral-8x7B-Instruct-v0.1')?.parametersB).toBe(46.7);
  });

  it('ignores alias and quantisation suffixes and backend prefixes', () => {
    expect(reference.text('koboldcpp/Mistral-7B-Instruct-v0.2-Q4_K_M::someone#12')).toEqual({
      name: 'koboldcpp/Mistral-7B-Instruct-v0.2',
      parametersB: 7,
    });
    expect(reference.text('koboldcpp/LLaMA2-13B-Psyfighter2::alice#3')?.inferred).toBeUndefined();
    expect(reference.text('LLaMA2-13B-Psyfighter2.Q5_K_S')?.name).toBe('koboldcpp/LLaMA2-13B-Psyfighter2');
    expect(reference.text('aphrodite/mistralai/Mixtral-8x7B-Instruct-v0.1-AWQ')?.parametersB).toBe(46.7);
    expect(reference.text('tabbyapi/Meta-Llama-3-70B-Instruct-exl2-4.0bpw')?.parametersB).toBe(70);
    expect(reference.text('koboldcpp/Llama-3-Lumimaid-8B-v0.1-GGUF')?.name).toBe(
      'aphrodite/NeverSleep/Llama-3-Lumimaid-8B-v0.1',
    );
  });

  it('sizes unknown models from their names', () => {
    expect(reference.text('koboldcpp/Mistral-7B-Instruct-v0.3-Q4_K_M::someone#12')).toEqual({
      name: 'koboldcpp/Mistral-7B-Instruct-v0.3-Q4_K_M',
      parametersB: 7,
      inferred: true,
    });
    expect(reference.text('SomeOrg/New-13B-Model')?.parametersB).toBe(13);
    expect(reference.text('tiny-1.5B-chat-fp16')?.parametersB).toBe(1.5);
    expect(reference.text('someone/Mixtral-8x22B-v0.1')?.parametersB).toBe(176);
    expect(reference.text('koboldcpp/Unnamed-Model')).toBeUndefined();
    expect(reference.text('')).toBeUndefined();
    expect(reference.text('::alias-only')).toBeUndefined();
  });

  it('lets the admin add and override text models', () => {
    const custom = createModelReference({
      text: [
        { name: 'koboldcpp/LLaMA2-13B-Psyfighter2', parametersB: 12.9 },
        { name: 'local/house-model', parametersB: 3 },
      ],
    });
    expect(custom.text('koboldcpp/LLaMA2-13B-Psyfighter2')?.parametersB).toBe(12.9);
    expect(custom.text('local/house-model::bob#1')?.parametersB).toBe(3);
    expect(() => createModelReference({ text: [{ name: 'bad', parametersB: -1 }] })).toThrow(RangeError);
  });
});
