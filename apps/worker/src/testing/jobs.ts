/**
 * Jobs and job contexts for backend tests: a plain job with the horde's usual values, and a test overrides
 * only what it looks at.
 */
import type { ImageJob, JobContext, TextJob } from '../backends/types.js';

/** A 512×512 txt2img job: 20 steps, cfg 7, `k_euler_a` with karras, seed 1, one image, no extras. */
export function imageJob(overrides: Partial<ImageJob> = {}): ImageJob {
  return {
    id: 'job-1',
    model: 'stable_diffusion',
    prompt: 'a lighthouse at dusk',
    negativePrompt: '',
    width: 512,
    height: 512,
    steps: 20,
    cfgScale: 7,
    sampler: 'k_euler_a',
    karras: true,
    seed: 1,
    count: 1,
    clipSkip: 1,
    tiling: false,
    hiresFix: false,
    loras: [],
    postProcessing: [],
    ...overrides,
  };
}

/** A text job with the horde's default lengths (80 tokens, 1024 of context) and no sampler fields. */
export function textJob(overrides: Partial<TextJob> = {}): TextJob {
  return {
    id: 'job-1',
    model: 'koboldcpp/FakeLlama-7B',
    prompt: 'Once upon a time',
    maxLength: 80,
    maxContextLength: 1024,
    params: {},
    ...overrides,
  };
}

/** A context on `signal` (never aborted by default) that records every progress report. */
export function jobContext(signal: AbortSignal = new AbortController().signal): {
  context: JobContext;
  progress: number[];
} {
  const progress: number[] = [];
  return { context: { signal, progress: (fraction) => progress.push(fraction) }, progress };
}
