#!/usr/bin/env node
/**
 * `npm run worker` / `hordekit-worker [--config worker.yaml]`: attach local backends to an AI Horde. A
 * live display on a terminal, plain log lines otherwise. Ctrl-C stops popping, finishes and submits the
 * jobs in flight, then exits; a second Ctrl-C exits at once.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createWorkers, type Worker } from './create.js';
import { createPlainReporter } from './display/plain.js';
import { createTerminalDisplay } from './display/terminal.js';
import type { WorkerReporter } from './status.js';

const USAGE = `usage: hordekit-worker [--config worker.yaml]

Attaches an image and/or text backend to an AI Horde. Settings come from the config file
(YAML or JSON; also WORKER_CONFIG) and the environment, which wins:

  HORDE_URL           the horde (default http://127.0.0.1:7001)
  HORDE_API_KEY       your API key on that horde (required)
  WORKER_NAME         the worker's name on the horde (required)
  IMAGE_BACKEND       a1111 | comfyui | openai-images | demo   (+ IMAGE_BACKEND_URL, IMAGE_MODELS)
  TEXT_BACKEND        koboldcpp | openai-completions | demo    (+ TEXT_BACKEND_URL, TEXT_MODEL)

With no backend configured it runs the demo image backend (procedural pictures, not AI).
See apps/worker/README.md for every setting.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig({ file: values.config });
  const display = process.stdout.isTTY ? createTerminalDisplay({ stream: process.stdout }) : undefined;
  const reporter: WorkerReporter = display ?? createPlainReporter({ stream: process.stdout });
  const workers = await createWorkers(config, { reporter });
  for (const worker of workers) await worker.start();

  const finished = await waitForSignals(workers, reporter);
  display?.close();
  return finished;
}

/** Resolves with the exit code once every worker stopped: 0 after a drain, 130 after a second signal. */
function waitForSignals(workers: Worker[], reporter: WorkerReporter): Promise<number> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      const say = (message: string) =>
        reporter.notice({ level: 'warn', worker: 'hordekit-worker', message, at: Date.now() });
      if (signals === 1) {
        say(
          `${signal}: no new jobs; finishing and submitting the jobs in flight (${signal} again exits now)`,
        );
        Promise.all(workers.map((worker) => worker.stop())).then(() => {
          say('all jobs submitted; stopped');
          resolve(0);
        });
        return;
      }
      say(`${signal} again: exiting now, jobs in flight are abandoned (the horde re-queues them)`);
      for (const worker of workers) void worker.stop({ halt: true });
      resolve(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`hordekit-worker: ${message}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
