/**
 * The built community horde (`apps/community-horde/dist/main.js`) as a child process, for tests that kill
 * and restart it: started on an ephemeral loopback port with test keys on and rate limits off, ready once
 * it prints its `API:` line.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'apps', 'community-horde', 'dist', 'main.js');
const READY = /API:\s+(http:\/\/127\.0\.0\.1:(\d+))\/api\/v2/;

export interface AppProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `http://127.0.0.1:<port>/api/v2` */
  api: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
}

/** `tsc -b apps/community-horde` (quick when the build is up to date). */
export function buildApp(): void {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'apps/community-horde'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
}

export async function startApp(
  dataDir: string,
  timeoutMs = 20_000,
  env: Record<string, string> = {},
): Promise<AppProcess> {
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      HORDEKIT_HOST: '127.0.0.1',
      HORDEKIT_PORT: '0',
      HORDEKIT_DATA_DIR: dataDir,
      HORDE_TEST_APIKEYS: '1',
      HORDEKIT_RATE_LIMITS: '0',
      HORDEKIT_DEMO_WORKER: '0',
      HORDEKIT_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the app did not listen within ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      const onData = () => {
        const match = READY.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(match[1]!);
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the app exited (${code ?? signal}) before it listened:\n${output}`));
      });
    });
    return { child, origin, api: `${origin}/api/v2`, output: () => output };
  } catch (error) {
    await stopApp(child, 'SIGKILL');
    throw error;
  }
}

/** Sends `signal` and waits for the exit; `undefined` when it had not exited after `timeoutMs`. */
export async function stopApp(
  child: ChildProcess,
  signal: NodeJS.Signals,
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    exited.then(([code, exitSignal]) => ({ code, signal: exitSignal })),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!result) {
    child.kill('SIGKILL');
    await exited;
  }
  return result;
}
