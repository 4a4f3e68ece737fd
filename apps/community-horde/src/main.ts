/**
 * `npm start`: the community horde on its embedded default — the AI Horde API v2 on
 * HORDEKIT_HOST:HORDEKIT_PORT (127.0.0.1:7001), SQLite and images under HORDEKIT_DATA_DIR (./data).
 * With DATABASE_URL (and REDIS_URL) the same process is one node of a scaled-out horde (see storage.ts).
 * The first start creates the administrator (account 1) and shows its key once. SIGINT/SIGTERM drain
 * in-flight requests and close the database cleanly; a second signal exits at once.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { createHorde, type Horde } from '@hordekit/core';
import { createServer } from '@hordekit/horde-server';
import { createPlainReporter } from '@hordekit/worker';
import { pino } from 'pino';
import { type Bots, startBots } from './bots.js';
import { type DemoWorkers, startDemoWorkers } from './demo-worker.js';
import { readEnv } from './env.js';
import { adminKeyPath, writeAdminKey } from './secrets.js';
import { openStorage } from './storage.js';

const ADMIN_ID = 1;
const DRAIN_MS = 5000;

async function ensureAdmin(horde: Horde, dataDir: string, say: (line: string) => void): Promise<void> {
  if (await horde.getAccount(ADMIN_ID)) {
    // With several nodes, only the data directory of the node that created the administrator holds the key.
    const saved = existsSync(adminKeyPath(dataDir))
      ? ` (${adminKeyPath(dataDir)})`
      : ' by the node that created it';
    say(`admin:    account #${ADMIN_ID}; its key was shown on the first start${saved}`);
    return;
  }
  const { account, apiKey } = await horde.registerAccount({
    username: 'admin',
    kind: 'verified',
    roles: { moderator: true, trusted: true },
  });
  if (account.id !== ADMIN_ID) throw new Error(`expected the administrator to be account ${ADMIN_ID}`);
  const path = writeAdminKey(dataDir, `admin#${account.id}`, apiKey);
  say(`admin:    admin#${account.id}, API key ${apiKey}`);
  say(`          (shown once; also saved to ${path}, readable only by you)`);
}

async function main(): Promise<void> {
  const env = readEnv();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const dataDir = resolve(env.HORDEKIT_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Asynchronous writes: a log line per request must not cost a write(2) each; flushed when stopping.
  const logDestination = pino.destination({ dest: 2, sync: false });
  const logger = pino({ level: env.HORDEKIT_LOG_LEVEL }, logDestination);

  const storage = await openStorage(env, dataDir, logger);
  const { store, blobs, secrets } = storage;
  const horde = await createHorde({
    store,
    logger,
    apiKeyPepper: secrets.apiKeyPepper,
    config: { ...env.HORDEKIT_CONFIG, accounts: { ...env.HORDEKIT_CONFIG.accounts, adminIds: [ADMIN_ID] } },
    events: storage.events,
    leadership: storage.leadership,
  });
  // A node that takes over the sweeps runs one at once: jobs a dead leader left leased come back sooner.
  storage.onLeadership((leader) => {
    if (leader) horde.sweep().catch((error) => logger.error({ err: error }, 'sweep failed'));
  });
  const server = createServer({
    horde,
    blobs,
    logger,
    name: env.HORDEKIT_NAME,
    signingSecret: secrets.signingSecret,
    publicUrl: env.HORDEKIT_PUBLIC_URL,
    trustProxy: env.HORDEKIT_TRUST_PROXY,
    testApiKeys: env.HORDE_TEST_APIKEYS,
    rateLimits:
      env.HORDEKIT_RATE_LIMITS && !env.HORDE_TEST_RATELIMIT_DISABLED
        ? { redis: storage.redis, keyPrefix: storage.redisPrefix }
        : false,
  });

  say(`hordekit community horde — ${storage.description}`);
  // Nodes starting at once on one database: one creates the administrator, the others find it.
  await storage.exclusive('hordekit admin', () => ensureAdmin(horde, dataDir, say));
  horde.start();
  server.start();

  const http = serve({
    fetch: server.app.fetch,
    port: env.HORDEKIT_PORT,
    hostname: env.HORDEKIT_HOST,
  }) as Server;
  await new Promise<void>((resolveListen, rejectListen) => {
    http.once('listening', resolveListen);
    http.once('error', rejectListen);
  });
  const { port } = http.address() as AddressInfo;
  const host = env.HORDEKIT_HOST.includes(':') ? `[${env.HORDEKIT_HOST}]` : env.HORDEKIT_HOST;
  const origin = env.HORDEKIT_PUBLIC_URL ?? `http://${host}:${port}`;
  say(`API:      ${origin}/api/v2`);
  say(`docs:     ${origin}/api/`);
  say(`register: ${origin}/register`);
  if (env.HORDE_TEST_APIKEYS) say('test users: POST /api/v2/dev/test-user is on (loopback only)');

  let demo: DemoWorkers | undefined;
  if (env.HORDEKIT_DEMO_WORKER ?? !storage.shared) {
    demo = await startDemoWorkers({
      horde,
      dataDir,
      hordeUrl: `http://${loopbackFor(env.HORDEKIT_HOST)}:${port}`,
      name: env.HORDEKIT_NAME,
      reporter: createPlainReporter({ stream: process.stdout }),
    });
    say(
      'demo:     built-in demo workers serve images and text (procedural, not AI); HORDEKIT_DEMO_WORKER=0 turns them off',
    );
    say(`try:      npm run draw -- "a lighthouse at dusk" --horde ${origin}`);
  }

  let bots: Bots | undefined;
  try {
    bots = await startBots({
      env,
      horde,
      keyv: storage.keyv,
      blobs,
      logger,
      hordeUrl: origin,
      secret: secrets.signingSecret,
    });
  } catch (error) {
    // A bot that cannot start (wrong token, platform unreachable) is reported; the horde keeps serving.
    say(`bots:     not started: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const line of bots?.started ?? []) say(`bot:      ${line}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal}: finishing requests in flight, then closing the database`);
    await bots?.stop();
    // The demo workers submit what they hold while the server still answers.
    await demo?.stop();
    const closed = new Promise<void>((resolveClose) => http.close(() => resolveClose()));
    http.closeIdleConnections();
    // Long-lived streams (SSE) would hold the server open: cut them after a grace period.
    const force = setTimeout(() => http.closeAllConnections(), DRAIN_MS);
    await closed;
    clearTimeout(force);
    await server.close();
    await horde.close();
    await storage.close();
    logDestination.flushSync();
    say('stopped cleanly');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stop(signal).catch((error: unknown) => {
        process.stderr.write(
          `hordekit: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      });
    });
  }
}

/** An address this process can reach itself on, for a server listening on `host`. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

main().catch((error: unknown) => {
  process.stderr.write(`hordekit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
