/**
 * Wire-level helpers for the black-box server suite: the request and pop bodies real clients and workers send
 * (spec ecosystem §1.1–§1.3), a server-sent-events reader and a loopback webhook receiver. Everything here talks
 * HTTP; nothing reaches into the server.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REGEN_AGENT, type TestServer, TINY_WEBP_BASE64 } from './server.js';

/** The bytes a worker uploads (a 1×1 WebP). */
export const TINY_WEBP = Buffer.from(TINY_WEBP_BASE64, 'base64');

export const LEGACY_AGENT = 'AI Horde Worker:24:https://github.com/db0/AI-Horde-Worker';
export const KOBOLDCPP_AGENT = 'KoboldCppEmbedWorker:2:https://github.com/LostRuins/koboldcpp';

/** The image pop answer as a worker reads it (spec §1.1). */
export interface ImagePopAnswer {
  id: string | null;
  ids: string[];
  model: string | null;
  ttl: number | null;
  payload: Record<string, unknown> & { ddim_steps: number; n_iter: number; seed: string };
  r2_upload: string;
  r2_uploads: string[];
  skipped: Record<string, number>;
  messages: unknown[];
}

/** Every field reGen 10.1.1 puts in its `POST /v2/generate/pop` body (ecosystem §1.1). */
export function regenPopBody(name: string, models: string[], overrides: Record<string, unknown> = {}) {
  return {
    name,
    bridge_agent: REGEN_AGENT,
    models,
    blacklist: [],
    nsfw: true,
    threads: 1,
    max_pixels: 4_194_304,
    require_upfront_kudos: false,
    allow_img2img: true,
    allow_painting: true,
    allow_unsafe_ipaddr: true,
    allow_post_processing: true,
    allow_controlnet: true,
    allow_sdxl_controlnet: true,
    allow_lora: true,
    extra_slow_worker: false,
    limit_max_steps: false,
    amount: 10,
    ...overrides,
  };
}

/** The legacy AI-Horde-Worker's image pop (ecosystem §1.2), with its misspelt `allow_unsafe_ip`. */
export function legacyPopBody(name: string, models: string[]) {
  return {
    name,
    max_pixels: 1_048_576,
    priority_usernames: [],
    nsfw: true,
    blacklist: [],
    models,
    allow_img2img: true,
    allow_painting: true,
    allow_unsafe_ip: true,
    threads: 1,
    allow_post_processing: true,
    allow_controlnet: false,
    allow_lora: false,
    require_upfront_kudos: false,
    bridge_version: 24,
    bridge_agent: LEGACY_AGENT,
  };
}

/** koboldcpp's embedded text worker pop (ecosystem §1.3). */
export function koboldcppPopBody(name: string, models: string[]) {
  return {
    name,
    models,
    max_length: 512,
    max_context_length: 4096,
    priority_usernames: [],
    softprompts: [],
    bridge_agent: KOBOLDCPP_AGENT,
  };
}

/** A small SFW image request on `model` (512×512, 10 steps unless overridden). */
export function imageRequest(
  model: string,
  params: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    prompt: 'a lighthouse at dusk ### blurry',
    params: { width: 512, height: 512, steps: 10, n: 1, ...params },
    models: [model],
    nsfw: false,
    ...extra,
  };
}

/** Turns an image URL from a status (absolute or relative) into something `fetch` takes. */
export function absoluteUrl(ts: TestServer, url: string): string {
  return new URL(url, ts.origin).toString();
}

/** Downloads a URL and returns status and bytes. */
export async function download(url: string): Promise<{ status: number; bytes: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** PUTs raw bytes the way reGen does: no content-type, no apikey. */
export async function upload(url: string, bytes: Uint8Array = TINY_WEBP): Promise<number> {
  const response = await fetch(url, { method: 'PUT', body: bytes });
  await response.arrayBuffer();
  return response.status;
}

/** The permutation that sorts `values` (horde_sdk sorts `ids` and `r2_uploads` separately). */
export function sortOrder(values: string[]): number[] {
  return values
    .map((value, index) => ({ value, index }))
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .map((entry) => entry.index);
}

/** Calls `probe` until it returns a value (or the deadline passes). */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface SseEvent {
  event: string;
  data: string;
}

/** A server-sent-events stream read with `fetch`: `next()` gives events in order, `ended` when it closed. */
export interface SseReader {
  status: number;
  contentType: string | null;
  next(timeoutMs?: number): Promise<SseEvent | undefined>;
  /** Resolves when the server closed the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { Accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  let done = false;
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true }).replace(/\r\n?/g, '\n');
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0 || event !== 'message') events.push({ event, data: data.join('\n') });
          cut = buffer.indexOf('\n\n');
        }
        wake();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      wake();
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    async next(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length === 0 && !done && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, Math.max(0, deadline - Date.now()));
        });
      }
      return events.shift();
    },
    ended,
    close: () => controller.abort(),
  };
}

export interface ReceivedHook {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP server that records every request (a webhook endpoint). */
export async function startReceiver(): Promise<{
  origin: string;
  received: ReceivedHook[];
  close(): Promise<void>;
}> {
  const received: ReceivedHook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
