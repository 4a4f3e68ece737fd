/**
 * AUTOMATIC1111's checkpoints for the a1111 backend: which horde models the installed checkpoints serve,
 * and the gate that serialises checkpoint switches. The loaded checkpoint (`sd_model_checkpoint`) is
 * A1111-wide state, so jobs for it run side by side while a switch waits for them and holds back later jobs.
 */
import { BackendError } from './types.js';

/** The part of the A1111 HTTP client the checkpoint logic uses. */
export interface CheckpointHttp {
  get(path: string): Promise<unknown>;
  post(path: string, body: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
}

interface A1111Checkpoint {
  title: string;
  model_name: string;
  filename?: string;
}

export interface CheckpointCatalog {
  /** The horde names to advertise (re-reads the checkpoint list). */
  hordeNames(): Promise<string[]>;
  /** The checkpoint title for a horde model; a BackendError when it is not installed. */
  resolve(hordeModel: string): Promise<string>;
  /** The checkpoint title `alias` (title, model name or file name) names, from the last list read. */
  titleOf(alias: string): string | undefined;
}

export function createCheckpointCatalog(
  http: CheckpointHttp,
  mapping: Record<string, string> | undefined,
): CheckpointCatalog {
  let checkpoints: A1111Checkpoint[] = [];
  const refresh = async () => {
    checkpoints = ((await http.get('/sdapi/v1/sd-models')) ?? []) as A1111Checkpoint[];
  };
  const find = (alias: string) => {
    const wanted = alias.toLowerCase();
    return checkpoints.find((checkpoint) =>
      [
        checkpoint.title,
        checkpoint.model_name,
        stripHash(checkpoint.title),
        basename(checkpoint.filename ?? ''),
      ].some((name) => name.toLowerCase() === wanted),
    );
  };
  const lookUp = (hordeModel: string) => find(mapping ? (mapping[hordeModel] ?? '') : hordeModel);
  return {
    hordeNames: async () => {
      await refresh();
      if (!mapping) return checkpoints.map((checkpoint) => checkpoint.model_name);
      return Object.keys(mapping).filter((hordeModel) => lookUp(hordeModel) !== undefined);
    },
    resolve: async (hordeModel) => {
      // A checkpoint added since the last read is found after one refresh.
      const found = lookUp(hordeModel) ?? (await refresh().then(() => lookUp(hordeModel)));
      if (!found) throw new BackendError(`a1111 has no checkpoint for model ${hordeModel}`);
      return found.title;
    },
    titleOf: (alias) => find(alias)?.title,
  };
}

/** Switches A1111 to `title` unless it is already loaded (after a restart, whatever it loaded last). */
export async function loadCheckpoint(
  http: CheckpointHttp,
  catalog: CheckpointCatalog,
  title: string,
  timeoutMs: number,
) {
  const options = (await http.get('/sdapi/v1/options')) as { sd_model_checkpoint?: unknown } | undefined;
  const current = String(options?.sd_model_checkpoint ?? '');
  if (current === title || catalog.titleOf(current) === title) return;
  await http.post('/sdapi/v1/options', { sd_model_checkpoint: title }, { timeoutMs });
}

export interface CheckpointGate {
  /** Waits until `checkpoint` is loaded and no switch is pending; the returned function ends the job's use. */
  enter(checkpoint: string, signal: AbortSignal): Promise<() => void>;
}

interface GateWaiter {
  checkpoint: string;
  admit: () => void;
  fail: (error: unknown) => void;
}

/**
 * Jobs for the loaded checkpoint run side by side (A1111 queues them itself). A job for another checkpoint
 * waits until they finish, then switches; jobs arriving meanwhile queue behind it, in order, so a steady
 * stream for one checkpoint cannot starve another.
 */
export function createCheckpointGate(load: (checkpoint: string) => Promise<void>): CheckpointGate {
  let loaded: string | undefined;
  let running = 0;
  let switching = false;
  const waiting: GateWaiter[] = [];

  const pump = () => {
    if (switching) return;
    while (waiting[0] !== undefined && waiting[0].checkpoint === loaded) waiting.shift()?.admit();
    const next = waiting[0];
    if (next === undefined || running > 0) return;
    switching = true;
    load(next.checkpoint)
      .then(
        () => {
          loaded = next.checkpoint;
        },
        (error: unknown) => {
          loaded = undefined;
          remove(next);
          next.fail(error);
        },
      )
      .finally(() => {
        switching = false;
        pump();
      });
  };
  const remove = (waiter: GateWaiter) => {
    const index = waiting.indexOf(waiter);
    if (index >= 0) waiting.splice(index, 1);
  };
  const lease = () => {
    running += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      running -= 1;
      pump();
    };
  };

  return {
    enter: (checkpoint, signal) => {
      if (!switching && waiting.length === 0 && loaded === checkpoint) return Promise.resolve(lease());
      signal.throwIfAborted();
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          remove(waiter);
          reject(signal.reason);
          pump();
        };
        const waiter: GateWaiter = {
          checkpoint,
          admit: () => {
            signal.removeEventListener('abort', onAbort);
            resolve(lease());
          },
          fail: (error) => {
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.push(waiter);
        pump();
      });
    },
  };
}

function stripHash(title: string): string {
  return title.replace(/\s*\[[0-9a-f]+\]$/i, '');
}

function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
