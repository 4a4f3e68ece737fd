/**
 * A fake ComfyUI server on loopback: `/object_info/{class}`, `/upload/image`, `/prompt` (with ComfyUI's
 * validation errors), `/queue`, `/interrupt`, `/history/{id}`, `/view`, and the `/ws` WebSocket with the
 * messages ComfyUI sends (`status`, `execution_start`, `execution_cached`, `executing` per node, `progress`
 * per sampler step, `executed`, `execution_success`, `executing {node: null}`, `execution_error`,
 * `execution_interrupted`).
 *
 * Prompts run one at a time, as in ComfyUI. The fake "runs" a graph by working out image sizes and seeds
 * through the nodes it knows (the core nodes hordekit's graphs use); every saved image is `fakePng(width,
 * height, seed, batch index)` from the KSampler's seed.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import sharp from 'sharp';
import { type WebSocket, WebSocketServer } from 'ws';
import { fakePng } from './fake-a1111.js';
import { type FakeReply, type FakeRoute, type HttpFake, startHttpFake } from './http-fake.js';

export interface FakeComfyUiOptions {
  /** Files in `models/checkpoints`. @default ['v1-5-pruned-emaonly.safetensors'] */
  checkpoints?: string[];
  /** Files in `models/loras`. @default [] */
  loras?: string[];
  /** Time per sampler step. @default 0 */
  stepDelayMs?: number;
  /**
   * When false, `/ws` refuses the upgrade (404), as behind a proxy without WebSocket support; when
   * `'silent'` it accepts the socket but never sends on it. @default true
   */
  webSocket?: boolean | 'silent';
}

/** A prompt as the fake received it. */
export interface FakeComfyPrompt {
  id: string;
  /** Its number in the queue, as `POST /prompt` answered it. */
  number: number;
  clientId: string | undefined;
  prompt: Record<string, FakeNode>;
}

export interface FakeNode {
  class_type: string;
  inputs: Record<string, unknown>;
}

export interface FakeComfyUi extends HttpFake {
  /** Every accepted prompt, in order. */
  readonly prompts: FakeComfyPrompt[];
  /** Uploaded input images by name. */
  readonly uploads: Map<string, Buffer>;
  /** The next prompt to run fails in its first KSampler with `exception_message` = `message`. */
  failNextExecution(message: string): void;
  /** WebSocket connections open now. */
  readonly socketCount: number;
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

interface NodeType {
  inputs: Record<string, InputType | (() => string[])>;
  outputs: string[];
  output?: boolean;
}

interface Running {
  id: string;
  interrupted: boolean;
}

export async function startFakeComfyUi(options: FakeComfyUiOptions = {}): Promise<FakeComfyUi> {
  const checkpoints = options.checkpoints ?? ['v1-5-pruned-emaonly.safetensors'];
  const loras = options.loras ?? [];
  const uploads = new Map<string, Buffer>();
  const uploadSizes = new Map<string, { width: number; height: number }>();
  const outputs = new Map<string, Buffer>();
  const prompts: FakeComfyPrompt[] = [];
  const pending: FakeComfyPrompt[] = [];
  const history: Record<string, unknown> = {};
  const sockets = new Map<WebSocket, string>();
  const nodeTypes = describeNodes(checkpoints, loras, () => [...uploads.keys()]);
  let failure: string | undefined;
  let running: Running | undefined;
  let outputCounter = 0;
  let closed = false;
  let promptNumber = 0;

  const send = (clientId: string | undefined, type: string, data: Record<string, unknown>) => {
    if (options.webSocket === 'silent') return;
    for (const [socket, id] of sockets)
      if (clientId === undefined || id === clientId) socket.send(JSON.stringify({ type, data }));
  };
  const broadcastStatus = () =>
    send(undefined, 'status', {
      status: { exec_info: { queue_remaining: pending.length + (running ? 1 : 0) } },
    });

  /** ComfyUI's prompt worker: takes the oldest queued prompt, runs it, records its history, repeats. */
  const runQueue = async () => {
    while (!running && !closed) {
      const next = pending.shift();
      if (!next) return;
      running = { id: next.id, interrupted: false };
      const failWith = failure;
      failure = undefined;
      history[next.id] = await execute(next, running, failWith);
      running = undefined;
      send(next.clientId, 'executing', { node: null, prompt_id: next.id });
      broadcastStatus();
    }
  };

  const execute = async (entry: FakeComfyPrompt, run: Running, failWith: string | undefined) => {
    const timestamp = () => Date.now();
    const messages: [string, Record<string, unknown>][] = [];
    const emit = (type: string, data: Record<string, unknown>, keep = true) => {
      send(entry.clientId, type, data);
      if (keep) messages.push([type, data]);
    };
    emit('execution_start', { prompt_id: entry.id, timestamp: timestamp() });
    emit('execution_cached', { nodes: [], prompt_id: entry.id, timestamp: timestamp() });
    const saved: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> = {};
    const executed: string[] = [];
    const result = (status: 'success' | 'error') => ({
      prompt: [
        entry.number,
        entry.id,
        entry.prompt,
        { client_id: entry.clientId },
        outputNodes(entry.prompt, nodeTypes),
      ],
      outputs: saved,
      status: { status_str: status, completed: status === 'success', messages },
      meta: {},
    });
    for (const nodeId of executionOrder(entry.prompt)) {
      const node = entry.prompt[nodeId] as FakeNode;
      emit('executing', { node: nodeId, display_node: nodeId, prompt_id: entry.id }, false);
      if (node.class_type === 'KSampler') {
        if (failWith !== undefined) {
          emit('execution_error', {
            prompt_id: entry.id,
            node_id: nodeId,
            node_type: node.class_type,
            executed,
            exception_message: failWith,
            exception_type: 'RuntimeError',
            traceback: [],
            current_inputs: {},
            current_outputs: {},
          });
          return result('error');
        }
        const steps = Number(node.inputs.steps ?? 20);
        for (let step = 1; step <= steps; step += 1) {
          await sleep(options.stepDelayMs ?? 0);
          if (run.interrupted || closed) {
            emit('execution_interrupted', {
              prompt_id: entry.id,
              node_id: nodeId,
              node_type: node.class_type,
              executed,
            });
            return result('error');
          }
          emit('progress', { value: step, max: steps, prompt_id: entry.id, node: nodeId }, false);
        }
      }
      if (node.class_type === 'SaveImage' || node.class_type === 'PreviewImage') {
        const images = await saveImages(entry.prompt, node);
        saved[nodeId] = { images };
        emit(
          'executed',
          { node: nodeId, display_node: nodeId, output: { images }, prompt_id: entry.id },
          false,
        );
      }
      executed.push(nodeId);
    }
    emit('execution_success', { prompt_id: entry.id, timestamp: timestamp() });
    return result('success');
  };

  const saveImages = async (prompt: Record<string, FakeNode>, node: FakeNode) => {
    const pixels = evaluate(prompt, node.inputs.images, uploadSizes);
    const type = node.class_type === 'SaveImage' ? 'output' : 'temp';
    const prefix = String(node.inputs.filename_prefix ?? (type === 'temp' ? 'ComfyUI_temp' : 'ComfyUI'));
    const images = [];
    for (let index = 0; index < pixels.batch; index += 1) {
      outputCounter += 1;
      const filename = `${prefix}_${String(outputCounter).padStart(5, '0')}_.png`;
      outputs.set(`${type}/${filename}`, await fakePng(pixels.width, pixels.height, pixels.seed, index));
      images.push({ filename, subfolder: '', type });
    }
    return images;
  };

  const routes: Record<string, FakeRoute> = {
    'POST /upload/image': async (call) => {
      const form = await new Request('http://fake/upload', {
        method: 'POST',
        headers: { 'content-type': String(call.headers['content-type'] ?? '') },
        body: call.raw,
      }).formData();
      const file = form.get('image');
      if (!(file instanceof Blob)) return { status: 400, body: undefined };
      const name = (file as File).name || 'image.png';
      const data = Buffer.from(await file.arrayBuffer());
      const metadata = await sharp(data).metadata();
      uploads.set(name, data);
      uploadSizes.set(name, { width: metadata.width ?? 0, height: metadata.height ?? 0 });
      return { body: { name, subfolder: '', type: String(form.get('type') ?? 'input') } };
    },
    'POST /prompt': (call) => {
      const body = (call.body ?? {}) as { prompt?: Record<string, FakeNode>; client_id?: string };
      const prompt = body.prompt ?? {};
      const invalid = validatePrompt(prompt, nodeTypes);
      if (invalid) return invalid;
      promptNumber += 1;
      const entry: FakeComfyPrompt = {
        id: randomUUID(),
        number: promptNumber,
        clientId: body.client_id,
        prompt,
      };
      prompts.push(entry);
      pending.push(entry);
      history[entry.id] = undefined;
      routes[`GET /history/${entry.id}`] = () => ({
        body: history[entry.id] ? { [entry.id]: history[entry.id] } : {},
      });
      broadcastStatus();
      void runQueue();
      return { body: { prompt_id: entry.id, number: entry.number, node_errors: {} } };
    },
    'GET /queue': () => ({
      body: {
        queue_running: running ? [[0, running.id]] : [],
        queue_pending: pending.map((entry, index) => [index + 1, entry.id]),
      },
    }),
    'POST /queue': (call) => {
      const body = (call.body ?? {}) as { delete?: string[]; clear?: boolean };
      const drop = (id: string) => {
        const index = pending.findIndex((entry) => entry.id === id);
        if (index >= 0) pending.splice(index, 1);
      };
      if (body.clear) pending.splice(0);
      for (const id of body.delete ?? []) drop(id);
      return { body: undefined };
    },
    'POST /interrupt': (call) => {
      const promptId = (call.body as { prompt_id?: string } | undefined)?.prompt_id;
      // Newer ComfyUI interrupts only the named prompt, and only while it runs.
      if (running && (promptId === undefined || promptId === running.id)) running.interrupted = true;
      return { body: undefined };
    },
    'GET /view': (_call, url) => {
      const key = `${url.searchParams.get('type') ?? 'output'}/${url.searchParams.get('filename') ?? ''}`;
      const image = outputs.get(key);
      return image ? { body: image, contentType: 'image/png' } : { status: 404, body: undefined };
    },
    'GET /history': () => ({
      body: Object.fromEntries(Object.entries(history).filter(([, entry]) => entry)),
    }),
  };
  for (const [name, type] of Object.entries(nodeTypes))
    routes[`GET /object_info/${name}`] = () => ({ body: { [name]: describeForObjectInfo(name, type) } });

  const fake = await startHttpFake(routes);
  const wss = new WebSocketServer({ noServer: true });
  fake.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    if (url.pathname !== '/ws' || options.webSocket === false) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (client) => {
      const clientId = url.searchParams.get('clientId') ?? randomUUID().replaceAll('-', '');
      sockets.set(client, clientId);
      client.on('close', () => sockets.delete(client));
      const status = { status: { exec_info: { queue_remaining: pending.length } }, sid: clientId };
      if (options.webSocket !== 'silent') client.send(JSON.stringify({ type: 'status', data: status }));
    });
  });

  return {
    ...fake,
    prompts,
    uploads,
    failNextExecution: (message) => {
      failure = message;
    },
    get socketCount() {
      return sockets.size;
    },
    close: async () => {
      closed = true;
      for (const socket of sockets.keys()) socket.terminate();
      wss.close();
      await fake.close();
    },
  };
}

// --- Node types and validation -------------------------------------------------------------------------

function describeNodes(
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

function describeForObjectInfo(name: string, type: NodeType) {
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
function validatePrompt(
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

function outputNodes(prompt: Record<string, FakeNode>, nodeTypes: Record<string, NodeType>): string[] {
  return Object.keys(prompt).filter((id) => nodeTypes[prompt[id]?.class_type ?? '']?.output === true);
}

// --- Running a graph -----------------------------------------------------------------------------------

/** Nodes in dependency order (inputs before the nodes that use them). */
function executionOrder(prompt: Record<string, FakeNode>): string[] {
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
function evaluate(
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
