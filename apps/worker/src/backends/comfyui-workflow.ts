/**
 * ComfyUI API-format graphs for horde jobs: the graph hordekit builds itself, and a user's own graph with
 * `{{placeholders}}` filled in. In the API format a graph is `{[node id]: {class_type, inputs}}` and an input
 * that takes another node's output is `[node id, output index]`.
 *
 * The built graph uses only nodes every ComfyUI ships:
 *
 *   CheckpointLoaderSimple → LoraLoader × n → CLIPSetLastLayer? → CLIPTextEncode (positive, negative)
 *   EmptyLatentImage | LoadImage → VAEEncode | VAEEncodeForInpaint (→ RepeatLatentBatch)
 *   → KSampler (→ LatentUpscale → KSampler for a hires fix) → VAEDecode → SaveImage
 */

/** One node of an API-format graph. */
export interface ComfyNode {
  class_type: string;
  inputs: Record<string, unknown>;
}

export type ComfyWorkflow = Record<string, ComfyNode>;

export interface WorkflowInputs {
  /** `ckpt_name` as ComfyUI lists it. */
  checkpoint: string;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  cfg: number;
  /** ComfyUI sampler and scheduler names. */
  sampler: string;
  scheduler: string;
  width: number;
  height: number;
  batch: number;
  /** KSampler `denoise`: 1 for txt2img, the denoising strength with a source image. */
  denoise: number;
  /** The horde's clip skip (1 = every layer); ComfyUI counts from the end, so 2 becomes -2. */
  clipSkip: number;
  /** LoRA files as ComfyUI lists them, with their strengths. */
  loras: { file: string; model: number; clip: number }[];
  /** Uploaded input images (names as `/upload/image` returned them). */
  source?: { image: string; mask?: string; painting: boolean };
  /** A two-pass hires fix: the first pass renders at `firstPass`, the second refines at width×height. */
  hires?: { firstPass: { width: number; height: number }; denoise: number };
}

export interface BuiltWorkflow {
  workflow: ComfyWorkflow;
  /** The KSampler nodes in the order they run, to turn per-sampler progress into job progress. */
  samplerNodes: string[];
  /** The SaveImage node whose outputs are the job's images. */
  outputNode: string;
}

/** The graph for one horde job. Node ids name their role, which makes graphs (and errors) readable. */
export function buildWorkflow(inputs: WorkflowInputs): BuiltWorkflow {
  const workflow: ComfyWorkflow = {
    checkpoint: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: inputs.checkpoint } },
  };
  let model: [string, number] = ['checkpoint', 0];
  let clip: [string, number] = ['checkpoint', 1];
  const vae: [string, number] = ['checkpoint', 2];

  inputs.loras.forEach((lora, index) => {
    const id = `lora_${index + 1}`;
    workflow[id] = {
      class_type: 'LoraLoader',
      inputs: { model, clip, lora_name: lora.file, strength_model: lora.model, strength_clip: lora.clip },
    };
    model = [id, 0];
    clip = [id, 1];
  });
  if (inputs.clipSkip > 1) {
    workflow.clip_skip = {
      class_type: 'CLIPSetLastLayer',
      inputs: { clip, stop_at_clip_layer: -inputs.clipSkip },
    };
    clip = ['clip_skip', 0];
  }
  workflow.positive = { class_type: 'CLIPTextEncode', inputs: { text: inputs.prompt, clip } };
  workflow.negative = { class_type: 'CLIPTextEncode', inputs: { text: inputs.negativePrompt, clip } };

  const firstPass = inputs.hires && !inputs.source ? inputs.hires.firstPass : inputs;
  let latent = addLatent(workflow, inputs, vae, firstPass);
  const sampler = (id: string, latentImage: [string, number], denoise: number) => {
    workflow[id] = {
      class_type: 'KSampler',
      inputs: {
        model,
        seed: inputs.seed,
        steps: inputs.steps,
        cfg: inputs.cfg,
        sampler_name: inputs.sampler,
        scheduler: inputs.scheduler,
        positive: ['positive', 0],
        negative: ['negative', 0],
        latent_image: latentImage,
        denoise,
      },
    };
    return [id, 0] as [string, number];
  };
  latent = sampler('sampler', latent, inputs.denoise);
  const samplerNodes = ['sampler'];
  if (inputs.hires && !inputs.source) {
    workflow.hires_upscale = {
      class_type: 'LatentUpscale',
      inputs: {
        samples: latent,
        upscale_method: 'nearest-exact',
        width: inputs.width,
        height: inputs.height,
        crop: 'disabled',
      },
    };
    latent = sampler('hires_sampler', ['hires_upscale', 0], inputs.hires.denoise);
    samplerNodes.push('hires_sampler');
  }
  workflow.decode = { class_type: 'VAEDecode', inputs: { samples: latent, vae } };
  workflow.save = { class_type: 'SaveImage', inputs: { images: ['decode', 0], filename_prefix: 'hordekit' } };
  return { workflow, samplerNodes, outputNode: 'save' };
}

/**
 * The latent the first KSampler starts from: empty for txt2img, the encoded source for img2img, and for
 * painting the source encoded with its mask (a `source_mask`, else LoadImage's mask from transparency).
 * A source is one image; `RepeatLatentBatch` turns it into the batch.
 */
function addLatent(
  workflow: ComfyWorkflow,
  inputs: WorkflowInputs,
  vae: [string, number],
  size: { width: number; height: number },
): [string, number] {
  const { source } = inputs;
  if (!source) {
    workflow.latent = {
      class_type: 'EmptyLatentImage',
      inputs: { width: size.width, height: size.height, batch_size: inputs.batch },
    };
    return ['latent', 0];
  }
  workflow.source = { class_type: 'LoadImage', inputs: { image: source.image } };
  if (source.painting) {
    let mask: [string, number] = ['source', 1];
    if (source.mask) {
      workflow.mask = { class_type: 'LoadImageMask', inputs: { image: source.mask, channel: 'red' } };
      mask = ['mask', 0];
    }
    workflow.encode = {
      class_type: 'VAEEncodeForInpaint',
      inputs: { pixels: ['source', 0], vae, mask, grow_mask_by: 6 },
    };
  } else {
    workflow.encode = { class_type: 'VAEEncode', inputs: { pixels: ['source', 0], vae } };
  }
  if (inputs.batch === 1) return ['encode', 0];
  workflow.batch = {
    class_type: 'RepeatLatentBatch',
    inputs: { samples: ['encode', 0], amount: inputs.batch },
  };
  return ['batch', 0];
}

// --- User templates ------------------------------------------------------------------------------------

/** The placeholders a user's graph may contain, and what fills them. */
export const TEMPLATE_PLACEHOLDERS = [
  'prompt',
  'negative_prompt',
  'seed',
  'steps',
  'cfg',
  'width',
  'height',
  'sampler',
  'scheduler',
  'checkpoint',
  'batch',
  'denoise',
] as const;

export type TemplateValues = Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string | number>;

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/**
 * A copy of `template` with placeholders filled. A string that is exactly one placeholder becomes the value
 * itself, typed (`"{{seed}}"` → 42); inside a longer string the value is spliced in as text
 * (`"photo of {{prompt}}"`). Unknown placeholders are left as they are, for ComfyUI to complain about.
 */
export function fillTemplate(template: object, values: TemplateValues): ComfyWorkflow {
  const lookUp = (name: string) =>
    Object.hasOwn(values, name) ? values[name as keyof TemplateValues] : undefined;
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\{\{\s*([a-z_]+)\s*\}\}$/.exec(value);
      const typed = whole?.[1] === undefined ? undefined : lookUp(whole[1]);
      if (typed !== undefined) return typed;
      return value.replace(PLACEHOLDER, (match, name: string) => String(lookUp(name) ?? match));
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fill(inner)]));
    }
    return value;
  };
  return fill(template) as ComfyWorkflow;
}

/** True when `template` uses `{{name}}` somewhere (decides which features a template-driven backend has). */
export function templateUses(template: object, name: (typeof TEMPLATE_PLACEHOLDERS)[number]): boolean {
  return new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(JSON.stringify(template));
}
