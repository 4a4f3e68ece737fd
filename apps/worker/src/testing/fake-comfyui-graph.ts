/**
 * The fake ComfyUI's graph model: the node types it knows (with their `/object_info` descriptions), the
 * checks ComfyUI's `validate_prompt` makes (same error types, messages and 400 bodies), and evaluation of a
 * graph down to the size, batch and seed of the images a node produces. `fake-comfyui.ts` serves it.
 */
import type { FakeReply } from './http-fake.js';

export interface FakeNode {
  class_type: string;
  inputs: Record<string, unknown>;
}

export const COMFY_SAMPLERS = [
  'euler',
  'euler_ancestral',
  'heun',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m',
  'dpmpp_2m_sde',
  'ddim',
  'uni_pc',
  'uni_pc_bh2',
  'lcm',
];
export const COMFY_SCHEDULERS = [
  'normal',
  'karras',
  'exponential',
  'sgm_uniform',
  'simple',
  'ddim_uniform',
  'beta',
];

/** Input types of the nodes the fake knows; upper-case types are links, the rest literal values. */
type InputType =
  | 'MODEL'
  | 'CLIP'
  | 'VAE'
  | 'CONDITIONING'
  | 'LATENT'
  | 'IMAGE'
  | 'MASK'
  | 'INT'
  | 'FLOAT'
  | 'STRING'
  | string[];

export interface NodeType {
  inputs: Record<string, InputType | (() => string[])>;
  outputs: string[];
  output?: boolean;
}

// --- Node types and validation -------------------------------------------------------------------------

export function describeNodes(
  checkpoints: string[],
  loras: string[],
  uploaded: () => string[],
): Record<string, NodeType> {
  const upscaleMethods = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'bislerp'];
  return {
    CheckpointLoaderSimple: { inputs: { ckpt_name: checkpoints }, outputs: ['MODEL', 'CLIP', 'VAE'] },
    LoraLoader: {
      inputs: {
        model: 'MODEL',
        clip: 'CLIP',
        lora_name: loras,
        strength_model: 'FLOAT',
        strength_clip: 'FLOAT',
      },
      outputs: ['MODEL', 'CLIP'],
    },
    CLIPSetLastLayer: { inputs: { clip: 'CLIP', stop_at_clip_layer: 'INT' }, outputs: ['CLIP'] },
    CLIPTextEncode: { inputs: { text: 'STRING', clip: 'CLIP' }, outputs: ['CONDITIONING'] },
    EmptyLatentImage: { inputs: { width: 'INT', height: 'INT', batch_size: 'INT' }, outputs: ['LATENT'] },
    LoadImage: { inputs: { image: uploaded }, outputs: ['IMAGE', 'MASK'] },
    LoadImageMask: {
      inputs: { image: uploaded, channel: ['alpha', 'red', 'green', 'blue'] },
      outputs: ['MASK'],
    },
    VAEEncode: { inputs: { pixels: 'IMAGE', vae: 'VAE' }, outputs: ['LATENT'] },
    VAEEncodeForInpaint: {
      inputs: { pixels: 'IMAGE', vae: 'VAE', mask: 'MASK', grow_mask_by: 'INT' },
      outputs: ['LATENT'],
    },
    SetLatentNoiseMask: { inputs: { samples: 'LATENT', mask: 'MASK' }, outputs: ['LATENT'] },
    RepeatLatentBatch: { inputs: { samples: 'LATENT', amount: 'INT' }, outputs: ['LATENT'] },
    LatentUpscale: {
      inputs: {
        samples: 'LATENT',
        upscale_method: upscaleMethods,
        width: 'INT',
        height: 'INT',
        crop: ['disabled', 'center'],
      },
      outputs: ['LATENT'],
    },
    LatentUpscaleBy: {
      inputs: { samples: 'LATENT', upscale_method: upscaleMethods, scale_by: 'FLOAT' },
      outputs: ['LATENT'],
    },
    KSampler: {
      inputs: {
        model: 'MODEL',
        seed: 'INT',
        steps: 'INT',
        cfg: 'FLOAT',
        sampler_name: COMFY_SAMPLERS,
        scheduler: COMFY_SCHEDULERS,
        positive: 'CONDITIONING',
        negative: 'CONDITIONING',
        latent_image: 'LATENT',
        denoise: 'FLOAT',
      },
      outputs: ['LATENT'],
    },
    VAEDecode: { inputs: { samples: 'LATENT', vae: 'VAE' }, outputs: ['IMAGE'] },
    SaveImage: { inputs: { images: 'IMAGE', filename_prefix: 'STRING' }, outputs: [], output: true },
    PreviewImage: { inputs: { images: 'IMAGE' }, outputs: [], output: true },
  };
}

export function describeForObjectInfo(name: string, type: NodeType) {
  const required = Object.fromEntries(
    Object.entries(type.inputs).map(([input, kind]) => {
      const resolved = typeof kind === 'function' ? kind() : kind;
      return [input, Array.isArray(resolved) ? [resolved, {}] : [resolved, {}]];
    }),
  );
  return {
    input: { required },
    input_order: { required: Object.keys(required) },
    output: type.outputs,
    output_is_list: type.outputs.map(() => false),
    output_name: type.outputs,
    name,
    display_name: name,
    description: '',
    category: 'fake',
    output_node: type.output === true,
  };
}

interface NodeError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

/** ComfyUI's `validate_prompt`: the same error types, messages and 400 body shapes. */
export function validatePrompt(
  prompt: Record<string, FakeNode>,
  nodeTypes: Record<string, NodeType>,
): FakeReply | undefined {
  for (const [id, node] of Object.entries(prompt)) {
    if (typeof node?.class_type !== 'string') {
      return invalidPrompt(
        'invalid_prompt',
        'Cannot execute because a node is missing the class_type property.',
        `Node ID '#${id}'`,
      );
    }
    if (!nodeTypes[node.class_type]) {
      return invalidPrompt(
        'invalid_prompt',
        `Cannot execute because node ${node.class_type} does not exist.`,
        `Node ID '#${id}'`,
      );
    }
  }
  const outputs = outputNodes(prompt, nodeTypes);
  if (outputs.length === 0) return invalidPrompt('prompt_no_outputs', 'Prompt has no outputs', '');

  const nodeErrors: Record<string, { errors: NodeError[]; dependent_outputs: string[]; class_type: string }> =
    {};
  for (const [id, node] of Object.entries(prompt)) {
    const errors = validateInputs(prompt, node, nodeTypes);
    if (errors.length > 0)
      nodeErrors[id] = { errors, dependent_outputs: outputs, class_type: node.class_type };
  }
  if (Object.keys(nodeErrors).length === 0) return undefined;
  return {
    status: 400,
    body: {
      error: {
        type: 'prompt_outputs_failed_validation',
        message: 'Prompt outputs failed validation',
        details: '',
        extra_info: {},
      },
      node_errors: nodeErrors,
    },
  };
}

function validateInputs(
  prompt: Record<string, FakeNode>,
  node: FakeNode,
  nodeTypes: Record<string, NodeType>,
): NodeError[] {
  const errors: NodeError[] = [];
  const spec = nodeTypes[node.class_type] as NodeType;
  for (const [name, kind] of Object.entries(spec.inputs)) {
    const value = node.inputs?.[name];
    const error = (type: string, message: string, details: string) =>
      errors.push({ type, message, details, extra_info: { input_name: name, received_value: value } });
    const expected = typeof kind === 'function' ? kind() : kind;
    if (value === undefined) {
      error('required_input_missing', 'Required input is missing', name);
    } else if (Array.isArray(value)) {
      const [source, slot] = value as [string, number];
      const from = prompt[source];
      const received = from ? nodeTypes[from.class_type]?.outputs[slot] : undefined;
      if (received === undefined)
        error(
          'bad_linked_input',
          'Bad linked input, must be a length-2 list of [node_id, slot_index]',
          `${name}, ${JSON.stringify(value)}`,
        );
      else if (received !== expected) {
        error(
          'return_type_mismatch',
          'Return type mismatch between linked nodes',
          `${name}, received_type(${received}) mismatch input_type(${expected})`,
        );
      }
    } else if (Array.isArray(expected)) {
      if (!expected.includes(String(value))) {
        error(
          'value_not_in_list',
          'Value not in list',
          `${name}: '${value}' not in ${JSON.stringify(expected)}`,
        );
      }
    } else if ((expected === 'INT' || expected === 'FLOAT') && !Number.isFinite(Number(value))) {
      error(
        'invalid_input_type',
        `Failed to convert an input value to a ${expected} value`,
        `${name}, ${value}`,
      );
    } else if (/^[A-Z]+$/.test(String(expected)) && !['INT', 'FLOAT', 'STRING'].includes(String(expected))) {
      error('invalid_input_type', `${name} must be a link to a ${expected} output`, name);
    }
  }
  return errors;
}

function invalidPrompt(type: string, message: string, details: string): FakeReply {
  return {
    status: 400,
    body: {
      error: { type, message, details, extra_info: {} },
      node_errors: type === 'prompt_no_outputs' ? [] : {},
    },
  };
}

export function outputNodes(prompt: Record<string, FakeNode>, nodeTypes: Record<string, NodeType>): string[] {
  return Object.keys(prompt).filter((id) => nodeTypes[prompt[id]?.class_type ?? '']?.output === true);
}

// --- Running a graph -----------------------------------------------------------------------------------

/** Nodes in dependency order (inputs before the nodes that use them). */
export function executionOrder(prompt: Record<string, FakeNode>): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id) || !prompt[id]) return;
    for (const value of Object.values(prompt[id].inputs)) if (Array.isArray(value)) visit(String(value[0]));
    order.push(id);
  };
  for (const id of Object.keys(prompt)) visit(id);
  return order;
}

interface Pixels {
  width: number;
  height: number;
  batch: number;
  seed: number;
}

/** The size, batch and seed of the latent or image a link carries. */
export function evaluate(
  prompt: Record<string, FakeNode>,
  link: unknown,
  uploads: Map<string, { width: number; height: number }>,
): Pixels {
  const [id] = link as [string, number];
  const node = prompt[id] as FakeNode;
  const input = (name: string) => evaluate(prompt, node.inputs[name], uploads);
  const number = (name: string) => Number(node.inputs[name]);
  switch (node.class_type) {
    case 'EmptyLatentImage':
      return { width: number('width'), height: number('height'), batch: number('batch_size'), seed: 0 };
    case 'LoadImage':
      return { ...(uploads.get(String(node.inputs.image)) ?? { width: 64, height: 64 }), batch: 1, seed: 0 };
    case 'VAEEncode':
    case 'VAEEncodeForInpaint':
      return input('pixels');
    case 'RepeatLatentBatch': {
      const samples = input('samples');
      return { ...samples, batch: samples.batch * number('amount') };
    }
    case 'LatentUpscale':
      return { ...input('samples'), width: number('width'), height: number('height') };
    case 'LatentUpscaleBy': {
      const samples = input('samples');
      const scale = number('scale_by');
      return {
        ...samples,
        width: Math.round(samples.width * scale),
        height: Math.round(samples.height * scale),
      };
    }
    case 'KSampler':
      return { ...input('latent_image'), seed: number('seed') };
    case 'SetLatentNoiseMask':
    case 'VAEDecode':
      return input('samples');
    default:
      return { width: 64, height: 64, batch: 1, seed: 0 };
  }
}
