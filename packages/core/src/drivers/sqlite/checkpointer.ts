/**
 * Checkpoints in a background thread. In WAL mode a commit only appends to the log; a checkpoint copies
 * the log into the database file and syncs it, and with `synchronous=NORMAL` that sync is the expensive
 * part. SQLite runs checkpoints inside whichever commit crosses the threshold, stalling that call; here a
 * second connection on a worker thread runs them (PASSIVE: never blocking the writer), on the other core.
 * Durability is unchanged — it never depended on checkpoints — and the main connection keeps a higher
 * automatic threshold as a safety net should the thread fall behind or fail.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS so the thread needs no TypeScript tooling; better-sqlite3 is passed in by path.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Runs PASSIVE checkpoints of the WAL database at `path` every `everyMs` on a worker thread (the horde store
 * uses it; so can any other WAL database of the same process, such as the image store).
 */
export function startCheckpointer(path: string, everyMs: number): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SOURCE, { eval: true, workerData: { driver, path, everyMs } });
  worker.unref();
  // A failing checkpointer is not fatal: the main connection still checkpoints by itself.
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Unreferenced, the thread would not keep the process alive while we wait for it to finish.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
