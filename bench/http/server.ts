/**
 * One server for `bench/http.ts`, in its own process so that the load generator (autocannon, in the
 * parent) and the server each have a core. Forked with an IPC channel:
 *
 *   bare      a bare Hono app with one JSON POST endpoint, `/echo`
 *   horde     the AI Horde server (`createServer`, rate limits off) on file SQLite in a temp directory
 *   prefilled the same with `BENCH_PREFILL` (default 80,000: more than a run serves, so pops never run dry) waiting image requests
 *   idle      the same with 100,000 waiting requests for a model the bench's idle workers do not serve
 *
 * The horde scenarios run on SQLite unless `BENCH_STORE=postgres` (see `storage.ts`, used by
 * `bench/scale.ts`). `BENCH_JOIN=1` starts another node of a horde that a first node has set up on the same
 * database: it registers no accounts, and its `ready` carries no keys (use the first node's).
 *
 * It answers `ready` with its port and the API keys of its accounts, and on `stop` reports the queue, the
 * ledger check and its memory, closes and exits.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createHorde, type Horde } from '@hordekit/core';
import { createServer, type HordeServer } from '@hordekit/horde-server';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import {
  IDLE_OWNERS,
  IDLE_REQUEST_MODEL,
  imageRequest,
  type ServerMarked,
  type ServerReady,
  type ServerReport,
} from './protocol.js';
import { openBenchStorage } from './storage.js';

const scenario = process.argv[2] as 'bare' | 'horde' | 'prefilled' | 'idle';
const PREFILL = Number(process.env.BENCH_PREFILL ?? 80_000);
const IDLE_QUEUE = Number(process.env.BENCH_IDLE_QUEUE ?? 100_000);
const JOIN = process.env.BENCH_JOIN === '1';

function send(message: ServerReady | ServerMarked | ServerReport): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Enqueues `count` requests through the engine, a few at a time so that group commit can batch them. */
async function fill(horde: Horde, apiKey: string, count: number, model: string): Promise<number> {
  const started = performance.now();
  const BATCH = 64;
  for (let i = 0; i < count; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      batch.push(horde.generateImage({ apiKey }, imageRequest(`queued #${j}`, model)));
    }
    await Promise.all(batch);
  }
  return (performance.now() - started) / 1000;
}

interface Started {
  http: ReturnType<typeof serve>;
  horde?: Horde;
  keys: ServerReady['keys'];
  fillSeconds: number;
  close(): Promise<void>;
}

async function startBare(): Promise<Started> {
  const app = new Hono();
  app.post('/echo', async (c) => c.json({ ok: true, n: (await c.req.json()).n }));
  const http = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => http.once('listening', resolve));
  return { http, keys: { requester: '', owners: [] }, fillSeconds: 0, close: async () => {} };
}

async function startHorde(): Promise<Started> {
  const storage = await openBenchStorage({
    store: process.env.BENCH_STORE === 'postgres' ? 'postgres' : 'sqlite',
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    stripes: process.env.BENCH_STRIPES ? Number(process.env.BENCH_STRIPES) : undefined,
  });
  const { store, blobs } = storage;
  // Requesters (the anonymous one too) may keep any number of jobs waiting: the queue is bounded by the
  // workload, not by a limit.
  const horde = await createHorde({
    store,
    events: storage.events,
    leadership: storage.leadership,
    config: {
      accounts: { adminIds: [1], defaultConcurrency: 1_000_000, anonymousConcurrency: 1_000_000 },
      // 1,000 idle workers on 10 accounts: 100 each, over the default 20 for a trusted owner.
      workers: { maxWorkersTrusted: 1000 },
    },
  });
  horde.start();
  const server: HordeServer = createServer({
    horde,
    blobs,
    rateLimits: false,
    signingSecret: storage.signingSecret,
  });
  server.start();
  const keys: ServerReady['keys'] = { requester: '', owners: [] };
  if (!JOIN) {
    const admin = await horde.registerAccount({
      username: 'admin',
      roles: { moderator: true, trusted: true },
    });
    const requester = await horde.registerAccount({ username: 'requester' });
    await horde.modifyAccount({ accountId: admin.account.id }, requester.account.id, { kudos: 1_000_000 });
    keys.requester = requester.apiKey;
    for (let i = 0; i < IDLE_OWNERS; i++) {
      keys.owners.push(
        (await horde.registerAccount({ username: `owner${i}`, roles: { trusted: true } })).apiKey,
      );
    }
  }
  let fillSeconds = 0;
  if (scenario === 'prefilled') fillSeconds = await fill(horde, keys.requester, PREFILL, 'stable_diffusion');
  if (scenario === 'idle') fillSeconds = await fill(horde, keys.requester, IDLE_QUEUE, IDLE_REQUEST_MODEL);
  // The prefill's pages are still in SQLite's write-ahead log; copy them into the database now, so that
  // the background checkpoint thread does not spend the measured run (and its CPU count) on them.
  if (fillSeconds > 0 && storage.dir) {
    const side = new Database(join(storage.dir, 'horde.db'));
    side.pragma('busy_timeout = 5000');
    side.pragma('wal_checkpoint(TRUNCATE)');
    side.close();
  }
  const http = serve({ fetch: server.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => http.once('listening', resolve));
  return {
    http,
    horde,
    keys,
    fillSeconds,
    async close() {
      await server.close();
      await horde.close();
      await storage.close();
    },
  };
}

const started = scenario === 'bare' ? await startBare() : await startHorde();
const port = (started.http.address() as AddressInfo).port;
await send({ type: 'ready', port, keys: started.keys, fillSeconds: started.fillSeconds });

// BENCH_MEASURED_PROF=<dir>: a CPU profile of the measured run only (from the mark to the stop).
const profileDir = process.env.BENCH_MEASURED_PROF;
const inspector = profileDir ? new Session() : undefined;
const post = (method: string, params?: object) =>
  new Promise<{ profile?: unknown }>((resolve, reject) =>
    inspector!.post(method, params, (error, result) =>
      error ? reject(error) : resolve(result as { profile?: unknown }),
    ),
  );

/** write(2) and writev(2) calls so far, if `/proc/self/io` is there. */
function writeSyscalls(): number | undefined {
  try {
    const match = /^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The main thread's time running and waiting for a core so far (ns → ms), if `schedstat` is there. */
function mainThread(): { runningMs: number; waitingMs: number } | undefined {
  try {
    const [running, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return { runningMs: Number(running) / 1e6, waitingMs: Number(waiting) / 1e6 };
  } catch {
    return undefined;
  }
}

let cpuBaseline = process.cpuUsage();
let threadBaseline = mainThread();
let markedAt = performance.now();
let writesBaseline = writeSyscalls();
let loopBaseline = performance.eventLoopUtilization();
process.on('message', async (message: { type: string }) => {
  if (message.type === 'mark') {
    cpuBaseline = process.cpuUsage();
    threadBaseline = mainThread();
    markedAt = performance.now();
    writesBaseline = writeSyscalls();
    loopBaseline = performance.eventLoopUtilization();
    if (inspector) {
      inspector.connect();
      await post('Profiler.enable');
      await post('Profiler.start');
    }
    await send({ type: 'marked' });
    return;
  }
  if (message.type !== 'stop') return;
  const cpu = process.cpuUsage(cpuBaseline);
  const writes = writeSyscalls();
  const loop = performance.eventLoopUtilization(loopBaseline);
  const thread = mainThread();
  if (inspector && profileDir) {
    const { profile } = await post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    writeFileSync(join(profileDir, `${scenario}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  }
  let report: ServerReport = {
    type: 'report',
    queued: 0,
    ledgerBalances: true,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    cpuMs: (cpu.user + cpu.system) / 1000,
    systemMs: cpu.system / 1000,
    writeSyscalls: writes === undefined || writesBaseline === undefined ? undefined : writes - writesBaseline,
    eventLoopBusy: loop.utilization,
    mainThread:
      thread && threadBaseline
        ? {
            runningMs: thread.runningMs - threadBaseline.runningMs,
            waitingMs: thread.waitingMs - threadBaseline.waitingMs,
          }
        : undefined,
    sinceMarkMs: performance.now() - markedAt,
  };
  const { horde } = started;
  if (horde) {
    const totals = await horde.store.ledgerTotals();
    report = {
      ...report,
      queued: (await horde.performance()).queued_requests,
      ledgerBalances: totals.balances + totals.escrow === totals.minted - totals.burnt,
    };
  }
  started.http.close();
  (started.http as Server).closeAllConnections();
  await started.close();
  await send(report);
  process.exit(0);
});
