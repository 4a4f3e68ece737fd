/**
 * A benchmark server (`bench/http/server.ts`) in a child process of its own, so that the load (autocannon,
 * or the worker node in `bench/worker.ts`) and the server each have a core.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerMarked, ServerReady, ServerReport } from './protocol.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the server process exited (${code}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Starts a server process for `scenario` (its queue sizes from `env`), runs `measure` against it, then
 * stops it and collects its report.
 */
export async function withServer<T>(
  scenario: 'bare' | 'horde' | 'prefilled' | 'idle',
  measure: (ready: ServerReady, mark: () => Promise<void>) => Promise<T>,
  env: Record<string, string> = {},
): Promise<{ result: T; ready: ServerReady; report: ServerReport }> {
  const child = fork(join(root, 'bench', 'http', 'server.ts'), [scenario], {
    cwd: root,
    execArgv: [
      '--import',
      'tsx',
      '--conditions=@hordekit/source',
      // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each server process there.
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await nextMessage<ServerReady>(child, 'ready');
    // The server's CPU time is counted from the mark, set after the warm-up.
    const mark = async () => {
      const marked = nextMessage<ServerMarked>(child, 'marked');
      child.send({ type: 'mark' });
      await marked;
    };
    const result = await measure(ready, mark);
    const reported = nextMessage<ServerReport>(child, 'report');
    child.send({ type: 'stop' });
    const report = await reported;
    if (child.exitCode === null) await once(child, 'exit');
    return { result, ready, report };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
