/**
 * The worker as its owner runs it (`node apps/worker/dist/main.js`, configured by a file and the
 * environment): Ctrl-C with a job in flight finishes and submits it before exiting; a second Ctrl-C exits
 * at once; a bad configuration is a clear message and exit code 2.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_IMAGE_MODEL } from '@hordekit/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/app-process.js';
import { waitUntil } from '../support/horde-http.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { requestImage, waitForStatus } from '../support/worker-harness.js';

const MAIN = join(ROOT, 'apps', 'worker', 'dist', 'main.js');
let ts: TestServer;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'apps/worker'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
  dir = mkdtempSync(join(tmpdir(), 'hordekit-worker-process-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await ts?.close();
});

function startWorker(env: Record<string, string>, args: string[] = []) {
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, ...env },
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, output: () => output, exited };
}

async function slowDemoWorker(name: string) {
  ts = await startTestServer();
  const owner = await ts.user('gpu-owner', 0, { customizer: true });
  const config = join(dir, `${name}.yaml`);
  // 50 steps × 60 ms: three seconds of "work" to interrupt.
  writeFileSync(config, `image:\n  backend: demo\n  step_delay_ms: 60\n`);
  const worker = startWorker({ HORDE_URL: ts.origin, HORDE_API_KEY: owner.apiKey, WORKER_NAME: name }, [
    '--config',
    config,
  ]);
  const requester = await ts.user('requester', 1000);
  const id = await requestImage(ts, requester.apiKey, {
    prompt: 'a lighthouse',
    models: [DEMO_IMAGE_MODEL],
    params: { width: 512, height: 512, steps: 50 },
  });
  await waitUntil(
    async () => ((await ts.call('GET', `/generate/check/${id}`)).body.processing === 1 ? true : undefined),
    15_000,
  );
  return { worker, id };
}

describe('the worker process', () => {
  it('SIGINT with a job in flight: stops popping, submits the job, exits 0', async () => {
    const { worker, id } = await slowDemoWorker('drainer');
    worker.child.kill('SIGINT');
    const [code] = await worker.exited;
    expect(code, worker.output()).toBe(0);
    const status = await waitForStatus(ts, id, 'image', 1000);
    expect(status.generations).toHaveLength(1);
    expect(status.generations[0].worker_name).toBe('drainer (demo, not AI)');
    expect(worker.output()).toMatch(/finishing and submitting the jobs in flight/);
    expect(worker.output()).toMatch(/all jobs submitted; stopped/);
    // Plain lines, since stdout is not a terminal: no progress bars, no cursor movement.
    expect(worker.output().includes(String.fromCharCode(27))).toBe(false);
  }, 30_000);

  it('a second SIGINT exits at once, leaving the job to the horde', async () => {
    const { worker, id } = await slowDemoWorker('quitter');
    worker.child.kill('SIGINT');
    await waitUntil(async () => (/finishing/.test(worker.output()) ? true : undefined));
    worker.child.kill('SIGINT');
    const [code] = await worker.exited;
    expect(code).toBe(130);
    expect((await ts.call('GET', `/generate/check/${id}`)).body.done).toBe(false);
  }, 30_000);

  it('explains a configuration it cannot use and exits 2', async () => {
    ts = await startTestServer();
    const worker = startWorker({
      HORDE_URL: ts.origin,
      HORDE_API_KEY: '',
      WORKER_NAME: '',
      IMAGE_BACKEND: 'dalle',
    });
    const [code] = await worker.exited;
    expect(code).toBe(2);
    expect(worker.output()).toMatch(/invalid worker configuration/);
    expect(worker.output()).toMatch(/image\.backend/);
  });
});
