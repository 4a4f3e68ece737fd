/**
 * A fake ComfyUI server on loopback: `/object_info/{class}`, `/upload/image`, `/prompt` (with ComfyUI's
 * validation errors), `/queue`, `/interrupt`, `/history/{id}`, `/view`, and the `/ws` WebSocket with the
 * messages ComfyUI sends (`status`, `execution_start`, `execution_cached`, `executing` per node, `progress`
 * per sampler step, `executed`, `execution_success`, `executing {node: null}`, `execution_error`,
 * `execution_interrupted`).
 *
 * Prompts run one at a time, as in ComfyUI. The fake "runs" a graph by working out image sizes and seeds
 * through the nodes it knows (the core nodes hordekit's graphs use, modelled in `fake-comfyui-graph.ts`);
 * every saved image is `fakePng(width, height, seed, batch index)` from the KSampler's seed.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import sharp from 'sharp';
import { type WebSocket, WebSocketServer } from 'ws';
import { fakePng } from './fake-a1111.js';
import {
  describeForObjectInfo,
  describeNodes,
  evaluate,
  executionOrder,
  type FakeNode,
  outputNodes,
  validatePrompt,
} from './fake-comfyui-graph.js';
import { type FakeRoute, type HttpFake, startHttpFake } from './http-fake.js';

// The graph model's public names, importable from here as before the split.
export { COMFY_SAMPLERS, COMFY_SCHEDULERS, type FakeNode } from './fake-comfyui-graph.js';

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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
