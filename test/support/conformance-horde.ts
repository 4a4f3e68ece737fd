/**
 * The horde the adapter conformance suite draws on: a real community horde on a port with our worker node
 * on the demo backend, reached either through the embedded client (this process's horde, images read from
 * the server's blob store) or through the remote client (`createRemoteClient` against the server's port,
 * with a registered bot account's key: everyone without a linked key shares that account).
 */
import { createRemoteClient } from '@hordekit/adapters';
import type { ConformanceHorde } from '@hordekit/adapters/testing';
import { createEmbeddedClient } from '@hordekit/core';
import { blobImageReader } from '@hordekit/horde-server';
import { pacedDemoBackend, uploadedBytes, waitForWorker } from './chat-harness.js';
import { expectConsistentLedger } from './ledger-check.js';
import { startTestServer } from './server.js';
import { startImageWorker } from './worker-harness.js';

const WORKER_NAME = 'demo-gpu';
/** The worker's usual pace: 30 steps in 150 ms. */
const QUICK_STEP_MS = 5;

export async function startConformanceHorde(mode: 'embedded' | 'remote'): Promise<ConformanceHorde> {
  const ts = await startTestServer();
  const pace = { stepDelayMs: QUICK_STEP_MS };
  const { worker } = await startImageWorker(ts, pacedDemoBackend(pace), { name: WORKER_NAME });
  const bot = mode === 'remote' ? await ts.user('bot', 50) : undefined;
  const client = bot
    ? createRemoteClient({
        url: ts.origin,
        apiKey: bot.apiKey,
        clientAgent: 'hordekit-tests:1:https://example.org',
        pollIntervalMs: 100,
        // The unserved-model answer lists the workers online now.
        listCacheMs: 0,
      })
    : createEmbeddedClient(ts.horde, { readImage: blobImageReader(ts.server.blobs) });
  return {
    horde: { client, mode },
    workerName: WORKER_NAME,
    ready: () => waitForWorker(ts).then(() => undefined),
    uploadedBytes: (requestId, index) => uploadedBytes(ts, requestId, index),
    async setKudos(alias, kudos) {
      const account = await ts.horde.findAccount(alias);
      if (!account) throw new Error(`no account ${alias}`);
      // An administrator's change adds kudos (as upstream's modify_user does): add the difference.
      const change = kudos - account.balance / 100;
      if (change !== 0) await ts.horde.modifyAccount({ accountId: 1 }, account.id, { kudos: change });
    },
    pace(stepDelayMs = QUICK_STEP_MS) {
      pace.stepDelayMs = stepDelayMs;
    },
    expectConsistentLedger: () => expectConsistentLedger(ts.horde.store),
    async close() {
      await worker.stop({ halt: true });
      await ts.close();
    },
  };
}
