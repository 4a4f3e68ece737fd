/**
 * The built-in demo workers of `npm start` (on unless HORDEKIT_DEMO_WORKER=0): an image and a text worker
 * on the demo backends — procedural pictures and placeholder text, not AI — so a newcomer sees requests
 * served end to end without a GPU. They are ordinary workers talking HTTP to this horde over loopback,
 * popping with the key of their own account (`demo-worker`, created on first use and allowed to serve
 * the demo models, which are in no model reference). Names and images say "demo, not AI".
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Horde } from '@hordekit/core';
import {
  BRIDGE_AGENT,
  createDemoImageBackend,
  createDemoTextBackend,
  HordeApi,
  ImageWorker,
  TextWorker,
  type WorkerReporter,
} from '@hordekit/worker';

const KEY_FILE = 'demo-worker-key.txt';
/** Per step of the demo image: slow enough to watch the progress, quick enough not to bore. */
const STEP_DELAY_MS = 20;

interface DemoAccount {
  id: number;
  apiKey: string;
}

/** The demo workers' account: the saved key while it still works, else a new account (or a new key). */
async function demoAccount(horde: Horde, dataDir: string): Promise<DemoAccount> {
  const path = join(dataDir, KEY_FILE);
  const saved = existsSync(path) ? parseKeyFile(readFileSync(path, 'utf8')) : undefined;
  if (saved) {
    try {
      await horde.authenticate({ apiKey: saved.apiKey });
      return saved;
    } catch {
      // The database was replaced: the key no longer works. Fall through to a fresh one.
    }
  }
  const existing = saved ? await horde.getAccount(saved.id) : undefined;
  const account =
    existing?.username === 'demo-worker'
      ? { id: existing.id, apiKey: await horde.rotateApiKey(existing.id) }
      : await registerDemoAccount(horde);
  writeFileSync(path, `# hordekit demo worker account #${account.id}\n${account.apiKey}\n`, { mode: 0o600 });
  return account;
}

async function registerDemoAccount(horde: Horde): Promise<DemoAccount> {
  const { account, apiKey } = await horde.registerAccount({
    username: 'demo-worker',
    // `customizer` lets it serve models outside the reference: the demo models are in none.
    roles: { customizer: true },
  });
  return { id: account.id, apiKey };
}

function parseKeyFile(text: string): DemoAccount | undefined {
  const id = Number(/#(\d+)/.exec(text)?.[1]);
  const apiKey = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line && !line.startsWith('#'));
  return Number.isInteger(id) && apiKey ? { id, apiKey } : undefined;
}

export interface DemoWorkers {
  stop(): Promise<void>;
}

/** Starts the demo image and text workers against this horde at `hordeUrl` (a loopback address). */
export async function startDemoWorkers(options: {
  horde: Horde;
  dataDir: string;
  hordeUrl: string;
  name: string;
  reporter: WorkerReporter;
}): Promise<DemoWorkers> {
  const account = await demoAccount(options.horde, options.dataDir);
  const api = new HordeApi({ url: options.hordeUrl, apiKey: account.apiKey, clientAgent: BRIDGE_AGENT });
  // nsfw: the demo cannot draw anything unsafe, so it takes every request, as the horde's default worker does.
  const common = { api, reporter: options.reporter, bridgeAgent: BRIDGE_AGENT, nsfw: true };
  const workers = [
    new ImageWorker({
      ...common,
      name: `${options.name.slice(0, 60)} demo (not AI)`,
      backend: createDemoImageBackend({ stepDelayMs: STEP_DELAY_MS }),
      maxPixels: 1024 * 1024,
    }),
    new TextWorker({
      ...common,
      name: `${options.name.slice(0, 60)} demo text (not AI)`,
      backend: createDemoTextBackend(),
    }),
  ];
  for (const worker of workers) await worker.start();
  return { stop: async () => void (await Promise.all(workers.map((worker) => worker.stop()))) };
}
