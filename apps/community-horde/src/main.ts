/**
 * `npm start`: the community horde on its embedded default (SQLite under HORDEKIT_DATA_DIR). Until the
 * HTTP server lands it runs the built-in demo — requests served by a placeholder worker — and exits.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHorde } from '@hordekit/core';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { pino } from 'pino';
import { runDemo } from './demo.js';
import { readEnv } from './env.js';

async function main(): Promise<void> {
  const env = readEnv();
  const dataDir = resolve(env.HORDEKIT_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = pino({ level: env.HORDEKIT_LOG_LEVEL }, pino.destination(2));
  const store = await createSqliteStore({ path: join(dataDir, 'horde.db') });
  const horde = await createHorde({ store, logger });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`hordekit community horde — data in ${dataDir}`);
  try {
    await runDemo(horde, env.HORDEKIT_DEMO_JOBS, say);
  } finally {
    await horde.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`hordekit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
