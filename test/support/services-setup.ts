/**
 * Vitest global setup: PostgreSQL and Redis for the tests that need them.
 *
 * CI (`.ci/run`) starts private instances with `scripts/services.sh` and exports HORDEKIT_TEST_DATABASE_URL and
 * HORDEKIT_TEST_REDIS_URL; those are used as they are. When either is unset and the binaries are installed, a
 * plain `npm test` starts its own private instances into a temporary directory here and stops them at teardown.
 * The URLs reach test files through `inject()` (see `services.ts`) and child processes through `process.env`.
 * When nothing is available the URLs are empty and `services.ts` throws, saying why: tests never skip silently.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://…/postgres` of a server where tests may create databases, or '' when there is none. */
    databaseUrl: string;
    /** `redis://…` of a Redis shared by all test files (use a key prefix), or '' when there is none. */
    redisUrl: string;
    /** Why the services could not be started, or ''. */
    servicesError: string;
  }
}

const SCRIPT = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
const DATABASE_VAR = 'HORDEKIT_TEST_DATABASE_URL';
const REDIS_VAR = 'HORDEKIT_TEST_REDIS_URL';

function services(command: 'start' | 'stop', dir: string): void {
  execFileSync('bash', [SCRIPT, command, dir], { stdio: 'pipe', timeout: 120_000 });
}

export default function setup(project: TestProject): (() => void) | undefined {
  let databaseUrl = process.env[DATABASE_VAR] ?? '';
  let redisUrl = process.env[REDIS_VAR] ?? '';
  let servicesError = '';
  let stop: (() => void) | undefined;

  if (!databaseUrl || !redisUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'hordekit-services-'));
    try {
      services('start', dir);
      const env = new Map(
        readFileSync(join(dir, 'env'), 'utf8')
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
      );
      databaseUrl ||= env.get(DATABASE_VAR) ?? '';
      redisUrl ||= env.get(REDIS_VAR) ?? '';
      let stopped = false;
      stop = () => {
        if (stopped) return;
        stopped = true;
        services('stop', dir);
        rmSync(dir, { recursive: true, force: true });
      };
      // Teardown does not run when vitest exits early (Ctrl-C): never leave the instances behind.
      process.once('exit', stop);
    } catch (error) {
      const { status, stderr } = error as { status?: number; stderr?: Buffer };
      const detail = stderr?.toString().trim() || String(error);
      // Status 3: PostgreSQL or Redis is not installed, which is not an error until a test needs them.
      servicesError =
        status === 3 ? detail : `scripts/services.sh start ${dir} failed (status ${status}): ${detail}`;
      try {
        services('stop', dir);
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Keep the directory and its logs for whoever reads servicesError.
      }
    }
  }

  // Child processes spawned by tests (server nodes, benchmarks) inherit these.
  if (databaseUrl) process.env[DATABASE_VAR] = databaseUrl;
  if (redisUrl) process.env[REDIS_VAR] = redisUrl;
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('servicesError', servicesError);
  return stop;
}
