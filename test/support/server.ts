/**
 * A real community horde on an ephemeral loopback port for black-box tests: file SQLite and a filesystem
 * image store in a temp directory, the real Hono app served by @hono/node-server. Tests talk to it over
 * HTTP only; `horde` is exposed for fixtures (accounts with kudos) and for checks after the fact.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createHorde, type Horde, type HordeConfigInput, type Role } from '@hordekit/core';
import { createSqliteStore } from '@hordekit/core/sqlite';
import {
  createFilesystemBlobStore,
  createServer,
  type HordeServer,
  type HordeServerOptions,
} from '@hordekit/horde-server';

export const REGEN_AGENT = 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen';
export const CI_CLIENT_AGENT = 'aihorde_ci_client:0.1.1:(discord)db0#1625';

export interface TestAccount {
  id: number;
  alias: string;
  apiKey: string;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `http://127.0.0.1:<port>/api/v2` */
  api: string;
  horde: Horde;
  server: HordeServer;
  dir: string;
  /** Account 1: administrator, moderator and trusted, 10,000 kudos (the upstream suite's `api_key`). */
  admin: TestAccount;
  /** Registers an account with kudos and roles (fixture set-up, not under test). */
  user(username: string, kudos?: number, roles?: Partial<Record<Role, boolean>>): Promise<TestAccount>;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallOptions {
  apikey?: string;
  /** JSON-encoded unless a string (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of many routes, checked field by field
  body: any;
}

export interface TestServerOptions {
  config?: HordeConfigInput;
  server?: Partial<Omit<HordeServerOptions, 'horde' | 'blobs'>>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hordekit-server-'));
  const store = await createSqliteStore({ path: join(dir, 'horde.db') });
  const horde = await createHorde({
    store,
    config: { ...options.config, accounts: { adminIds: [1], ...options.config?.accounts } },
  });
  horde.start();
  const blobs = await createFilesystemBlobStore({ dir: join(dir, 'images') });
  const server = createServer({ horde, blobs, rateLimits: false, testApiKeys: true, ...options.server });
  server.start();
  const http = serve({ fetch: server.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => http.once('listening', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  async function user(username: string, kudos = 0, roles: Partial<Record<Role, boolean>> = {}) {
    const { account, apiKey } = await horde.registerAccount({ username, roles });
    if (kudos !== 0) await horde.modifyAccount({ accountId: 1 }, account.id, { kudos });
    return { id: account.id, alias: `${username}#${account.id}`, apiKey };
  }
  const admin = await user('admin', 10_000, { moderator: true, trusted: true });
  if (admin.id !== 1) throw new Error('the test server expects its administrator to be account 1');

  async function call(method: string, path: string, callOptions: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { 'Client-Agent': CI_CLIENT_AGENT, ...callOptions.headers };
    if (callOptions.apikey !== undefined) headers.apikey = callOptions.apikey;
    let body: string | undefined;
    if (callOptions.body !== undefined) {
      body = typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const url = path.startsWith('http')
      ? path
      : `${path.startsWith('/api') ? origin : `${origin}/api/v2`}${path}`;
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : text;
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed };
  }

  return {
    origin,
    api: `${origin}/api/v2`,
    horde,
    server,
    dir,
    admin,
    user,
    call,
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.close();
      await horde.close();
      await blobs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A 1×1 WebP (what a worker uploads), base64. */
export const TINY_WEBP_BASE64 = 'UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAQAcJaQAA3AA/v3AgAA=';
