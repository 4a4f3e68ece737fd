/**
 * The horde the example bots draw on: a remote AI Horde (`remoteUrl`), or one embedded in this process —
 * SQLite under `./data-examples` of the working directory, its AI Horde API on 127.0.0.1:7002 so that real
 * workers can join (an account from `/register`, then `HORDE_URL=http://127.0.0.1:7002 npm run worker`),
 * and a demo worker (procedural pictures, not AI) so that it draws out of the box. Set-up, not the point of
 * the examples: see the `*-bot.ts` files.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type ChatHorde, createRemoteClient } from '@hordekit/adapters';
import { createEmbeddedClient, createHorde } from '@hordekit/core';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { blobImageReader, createServer, createSqliteBlobStore } from '@hordekit/horde-server';
import { BRIDGE_AGENT, createDemoImageBackend, HordeApi, ImageWorker } from '@hordekit/worker';

export interface ExampleHordeOptions {
  /** A remote AI Horde to draw on (`HORDE_REMOTE_URL`) instead of an embedded one. @default undefined */
  remoteUrl?: string | undefined;
  /** The bot's key on the remote horde (`HORDE_REMOTE_API_KEY`). @default '0000000000' (anonymous) */
  remoteApiKey?: string | undefined;
  /** Where the embedded horde keeps its SQLite files. @default './data-examples' */
  dataDir?: string;
  /** The embedded horde's API port, for workers (0: any free one). @default 7002 */
  port?: number;
  /** Run the demo worker next to the embedded horde. @default true */
  demoWorker?: boolean;
}

export interface ExampleHorde {
  /** For `createChatApp({ horde })`. */
  horde: ChatHorde;
  /** The embedded horde's API (`http://127.0.0.1:<port>`); undefined for a remote one. */
  url?: string;
  close(): Promise<void>;
}

export async function startExampleHorde(options: ExampleHordeOptions = {}): Promise<ExampleHorde> {
  if (options.remoteUrl) {
    const apiKey = options.remoteApiKey ?? '0000000000';
    const client = createRemoteClient({ url: options.remoteUrl, apiKey });
    return { horde: { client, mode: 'remote' }, close: async () => {} };
  }

  const dataDir = options.dataDir ?? './data-examples';
  mkdirSync(dataDir, { recursive: true });
  const horde = await createHorde({ store: await createSqliteStore({ path: join(dataDir, 'horde.db') }) });
  const blobs = await createSqliteBlobStore({ path: join(dataDir, 'images.db') });
  const server = createServer({ horde, blobs });
  horde.start();
  server.start();
  const http = serve({
    fetch: server.app.fetch,
    hostname: '127.0.0.1',
    port: options.port ?? 7002,
  }) as Server;
  await once(http, 'listening');
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  let worker: ImageWorker | undefined;
  if (options.demoWorker ?? true) {
    // The demo worker's account is found by name on every start, and given a fresh key.
    const { account } = await horde.accountForIdentity('examples', 'demo-worker', {
      username: 'demo-worker',
    });
    const apiKey = await horde.rotateApiKey(account.id);
    worker = new ImageWorker({
      api: new HordeApi({ url, apiKey, clientAgent: BRIDGE_AGENT }),
      name: 'examples demo (not AI)',
      backend: createDemoImageBackend({ stepDelayMs: 20 }),
      bridgeAgent: BRIDGE_AGENT,
      maxPixels: 1024 * 1024,
      nsfw: true,
    });
    await worker.start();
  }

  return {
    horde: { client: createEmbeddedClient(horde, { readImage: blobImageReader(blobs) }), mode: 'embedded' },
    url,
    async close() {
      await worker?.stop();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.close();
      await horde.close();
      await blobs.close();
    },
  };
}
