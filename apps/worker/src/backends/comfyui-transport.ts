/**
 * The ComfyUI backend's transport: HTTP calls (with ComfyUI's error bodies made readable), queueing a graph
 * with `POST /prompt`, following it on the `/ws` WebSocket (or polling `/history/{id}` without one),
 * cancelling it (`/queue` delete, `/interrupt`), uploading inputs and fetching outputs from `/view`. It knows
 * graphs only as JSON; `comfyui.ts` turns horde jobs into graphs and images.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { type BackendHttp, createBackendHttp, imageBackendWording } from './backend-http.js';
import type { ComfyWorkflow } from './comfyui-workflow.js';
import { BackendError, type JobContext } from './types.js';

/** Lists, uploads and queueing answer at once from a healthy ComfyUI. */
const INFO_TIMEOUT_MS = 15_000;
const SOCKET_CONNECT_TIMEOUT_MS = 5_000;
/** While the WebSocket reports, `/history` is still read this many poll intervals apart (a safety net). */
const SAFETY_POLL_FACTOR = 20;

/** A graph to run and what to read back from it. */
export interface PromptRequest {
  workflow: ComfyWorkflow;
  /** The KSampler nodes in the order they run, to turn per-sampler progress into job progress. */
  samplerNodes: string[];
  /** The SaveImage node to read, or every output node (a template). */
  outputNode?: string;
  /** Images to fetch; fewer outputs is an error. */
  count: number;
}

export interface TransportSettings {
  /** `ws://…/ws`, without the `clientId` query. */
  socketUrl: string;
  pollIntervalMs: number;
}

// --- Running a graph -----------------------------------------------------------------------------------

/**
 * Queues the graph, waits for it and downloads the first `count` images. The WebSocket opens before the
 * graph is queued: ComfyUI may run a small graph before `POST /prompt` has even answered, and a late
 * listener would miss the end.
 */
export async function runPrompt(
  http: ComfyHttp,
  request: PromptRequest,
  context: JobContext,
  settings: TransportSettings,
): Promise<Buffer[]> {
  const { signal } = context;
  const clientId = randomUUID();
  const socket = await openSocket(`${settings.socketUrl}?clientId=${clientId}`);
  const events = socket ? recordEvents(socket) : undefined;
  let promptId: string | undefined;
  // Queued or running work nobody waits for any more: drop it from the queue, or stop it.
  const cancel = () => {
    if (promptId === undefined) return;
    void http.post('/queue', { delete: [promptId] }).catch(() => undefined);
    void http.post('/interrupt', { prompt_id: promptId }).catch(() => undefined);
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    promptId = await queuePrompt(http, request.workflow, clientId, signal);
    if (events) await followEvents(http, events, promptId, request, context, settings.pollIntervalMs);
    const entry = await waitForHistory(http, promptId, settings.pollIntervalMs, signal);
    const files = readOutputs(entry, request.outputNode);
    if (files.length < request.count) {
      throw new BackendError(`comfyui produced ${files.length} images for ${request.count}`);
    }
    const images: Buffer[] = [];
    for (const file of files.slice(0, request.count)) images.push(await http.download(file, signal));
    return images;
  } finally {
    signal.removeEventListener('abort', cancel);
    socket?.close();
  }
}

/**
 * Follows the prompt on the socket. A slow look at `/history` runs alongside, in case the socket stays open
 * but our messages never come (a proxy, a ComfyUI that ignored our clientId): the job then ends late, not never.
 */
async function followEvents(
  http: ComfyHttp,
  events: EventLog,
  promptId: string,
  request: PromptRequest,
  context: JobContext,
  pollIntervalMs: number,
): Promise<void> {
  const safetyIntervalMs = pollIntervalMs * SAFETY_POLL_FACTOR;
  const followed = new AbortController();
  const signal = AbortSignal.any([context.signal, followed.signal]);
  try {
    await Promise.race([
      events.follow(promptId, progressReporter(request.samplerNodes, context), signal),
      sleep(safetyIntervalMs, signal).then(() => waitForHistory(http, promptId, safetyIntervalMs, signal)),
    ]);
  } finally {
    followed.abort();
  }
}

async function queuePrompt(
  http: ComfyHttp,
  workflow: ComfyWorkflow,
  clientId: string,
  signal: AbortSignal,
): Promise<string> {
  const answer = (await http.post('/prompt', { prompt: workflow, client_id: clientId }, { signal })) as {
    prompt_id?: unknown;
  };
  if (typeof answer?.prompt_id !== 'string') throw new BackendError('comfyui /prompt returned no prompt_id');
  return answer.prompt_id;
}

/** Progress over all KSampler passes: the second of two passes reports from 0.5 to 1. */
function progressReporter(samplerNodes: string[], context: JobContext) {
  let best = 0;
  return (value: number, max: number, node: unknown) => {
    const pass = Math.max(0, samplerNodes.indexOf(String(node)));
    const passes = Math.max(1, samplerNodes.length);
    const fraction = (pass + value / Math.max(1, max)) / passes;
    // Below 1: the images still have to be fetched; the backend reports 1 once they are.
    if (fraction > best && fraction < 1) {
      best = fraction;
      context.progress(fraction);
    }
  };
}

interface HistoryEntry {
  outputs?: Record<string, { images?: ComfyFile[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
}

export interface ComfyFile {
  filename: string;
  subfolder: string;
  type: string;
}

/**
 * The finished prompt's history entry. ComfyUI writes history just after it announces the end, and only
 * then, so an empty answer means "not yet" in both the WebSocket and the polling case.
 */
async function waitForHistory(
  http: ComfyHttp,
  promptId: string,
  intervalMs: number,
  signal: AbortSignal,
): Promise<HistoryEntry> {
  for (;;) {
    const history = (await http.get(`/history/${encodeURIComponent(promptId)}`, { signal })) as
      | Record<string, HistoryEntry>
      | undefined;
    const entry = history?.[promptId];
    if (entry) {
      if (entry.status?.status_str === 'error') throw new BackendError(describeFailure(entry));
      return entry;
    }
    await sleep(intervalMs, signal);
  }
}

function describeFailure(entry: HistoryEntry): string {
  for (const [type, data] of entry.status?.messages ?? []) {
    if (type === 'execution_error') return `comfyui: ${data.node_type} failed: ${data.exception_message}`;
    if (type === 'execution_interrupted') return 'comfyui: the generation was interrupted';
  }
  return 'comfyui: the generation failed';
}

/** Saved images of `outputNode`, or of every node (a template); previews (`temp`) only when nothing was saved. */
function readOutputs(entry: HistoryEntry, outputNode: string | undefined): ComfyFile[] {
  const outputs = Object.entries(entry.outputs ?? {})
    .filter(([node]) => outputNode === undefined || node === outputNode)
    .flatMap(([, output]) => output.images ?? []);
  const saved = outputs.filter((file) => file.type === 'output');
  return saved.length > 0 ? saved : outputs;
}

// --- WebSocket -----------------------------------------------------------------------------------------

/** Resolves to undefined when the socket cannot open (older proxies, `--disable-ws`…): then we poll. */
function openSocket(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const fail = () => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      resolve(undefined);
    };
    const timer = setTimeout(fail, SOCKET_CONNECT_TIMEOUT_MS);
    socket.once('error', fail);
    socket.once('open', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}

interface ComfyMessage {
  type: string;
  data?: Record<string, unknown>;
}

interface EventLog {
  /** Resolves when `promptId` has finished (or the socket closed: the caller then polls); rejects when it failed. */
  follow(
    promptId: string,
    onProgress: (value: number, max: number, node: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Keeps every JSON message from the moment the socket opens, so `follow` sees events sent before it started. */
function recordEvents(socket: WebSocket): EventLog {
  const messages: ComfyMessage[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('message', (data, isBinary) => {
    // Binary frames are latent previews.
    if (isBinary) return;
    try {
      messages.push(JSON.parse(String(data)) as ComfyMessage);
    } catch {
      return;
    }
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('error', () => undefined);

  return {
    follow: async (promptId, onProgress, signal) => {
      for (let seen = 0; ; ) {
        for (; seen < messages.length; seen += 1) {
          const message = messages[seen];
          if (message?.data?.prompt_id !== promptId) continue;
          if (isFinished(message)) return;
          if (message.type === 'execution_error' || message.type === 'execution_interrupted') {
            throw new BackendError(describeFailure({ status: { messages: [[message.type, message.data]] } }));
          }
          if (message.type === 'progress')
            onProgress(Number(message.data.value), Number(message.data.max), message.data.node);
        }
        if (closed) return;
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
        });
      }
    },
  };
}

function isFinished(message: ComfyMessage): boolean {
  return (
    message.type === 'execution_success' || (message.type === 'executing' && message.data?.node === null)
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// --- HTTP ----------------------------------------------------------------------------------------------

export interface ComfyHttp extends BackendHttp {
  /** `POST /upload/image`; the name to give LoadImage (`subfolder/name` when ComfyUI chose a subfolder). */
  upload(image: Buffer, fileName: string, signal: AbortSignal): Promise<string>;
  download(file: ComfyFile, signal: AbortSignal): Promise<Buffer>;
}

export function createComfyHttp(base: string, fetchImpl?: typeof fetch): ComfyHttp {
  const http = createBackendHttp({
    base,
    label: 'comfyui',
    fetch: fetchImpl,
    defaultTimeoutMs: INFO_TIMEOUT_MS,
    errorMessage: readComfyError,
    wording: imageBackendWording('comfyui'),
  });
  return {
    ...http,
    upload: async (image, fileName, signal) => {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), fileName);
      form.append('type', 'input');
      form.append('overwrite', 'true');
      const answer = (await http.post('/upload/image', form, { signal })) as
        | { name?: unknown; subfolder?: unknown }
        | undefined;
      if (typeof answer?.name !== 'string') throw new BackendError('comfyui /upload/image returned no name');
      return typeof answer.subfolder === 'string' && answer.subfolder !== ''
        ? `${answer.subfolder}/${answer.name}`
        : answer.name;
    },
    download: (file, signal) => {
      const query = new URLSearchParams({
        filename: file.filename,
        subfolder: file.subfolder,
        type: file.type,
      });
      return http.getBytes(`/view?${query}`, { signal });
    },
  };
}

/**
 * ComfyUI's `/prompt` rejects a graph with `{error: {message, details}, node_errors: {[id]: {class_type,
 * errors: [{message, details}]}}}`; the per-node errors say what is actually wrong.
 */
function readComfyError(body: unknown, text: string): string {
  try {
    const { error, node_errors } = (body ?? {}) as {
      error?: { message?: string; details?: string } | string;
      node_errors?: Record<
        string,
        { class_type?: string; errors?: { message?: string; details?: string }[] }
      >;
    };
    const summary =
      typeof error === 'string' ? error : [error?.message, error?.details].filter(Boolean).join(': ');
    const nodes = Object.entries(node_errors ?? {}).flatMap(([id, node]) =>
      (node.errors ?? []).map(
        (entry) =>
          `${node.class_type ?? 'node'} ${id}: ${[entry.message, entry.details].filter(Boolean).join(': ')}`,
      ),
    );
    const parts = [summary, ...nodes].filter(Boolean);
    if (parts.length > 0) return parts.join('; ');
  } catch {
    // Node errors of another shape.
  }
  return text.slice(0, 200) || 'no details';
}
