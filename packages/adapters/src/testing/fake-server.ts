/**
 * The common part of the fake platform APIs: a Hono app served on an ephemeral loopback port, with a log
 * of every API call the SDK made, so tests assert on what a user would have seen.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RecordedApiCall {
  /** The platform's method name (`sendMessage`, `chat.update`, `POST /interactions/:id/:token/callback`). */
  method: string;
  /** Parsed body: JSON, form fields, or multipart fields (files as `{ filename, type, bytes }`). */
  body: Record<string, unknown>;
  at: number;
}

export interface UploadedFile {
  filename: string;
  type: string;
  bytes: Buffer;
}

export class CallLog {
  readonly calls: RecordedApiCall[] = [];
  readonly #waiters: { method: string; resolve: (call: RecordedApiCall) => void; after: number }[] = [];

  record(method: string, body: Record<string, unknown>): RecordedApiCall {
    const call = { method, body, at: Date.now() };
    this.calls.push(call);
    const index = this.calls.length - 1;
    for (const waiter of [...this.#waiters]) {
      if (waiter.method === method && index >= waiter.after) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
    return call;
  }

  /** Calls of `method`, in order. */
  of(method: string): RecordedApiCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The next call of `method` from now on (or from call index `after`). */
  next(method: string, options: { after?: number; timeoutMs?: number } = {}): Promise<RecordedApiCall> {
    const after = options.after ?? this.calls.length;
    const existing = this.calls.findIndex((call, index) => index >= after && call.method === method);
    if (existing !== -1) return Promise.resolve(this.calls[existing]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${method} call within ${options.timeoutMs ?? 5000} ms`)),
        options.timeoutMs ?? 5000,
      );
      this.#waiters.push({
        method,
        after,
        resolve: (call) => {
          clearTimeout(timer);
          resolve(call);
        },
      });
    });
  }
}

/** Serves `app` on 127.0.0.1 with an ephemeral port. */
export async function listen(app: Hono): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
