/**
 * PostgreSQL and Redis for test files. One server of each is shared by every test file (see
 * `services-setup.ts`), so isolation is by database (`freshDatabase`) and by key prefix (`redisPrefix`).
 * The helpers are `@hordekit/core/testing`'s (which package tests use too); these add to a missing
 * server's error why the global setup could not start one.
 */
import { createTestDatabase, testDatabaseUrl, testRedisPrefix, testRedisUrl } from '@hordekit/core/testing';
import { inject } from 'vitest';
// The `ProvidedContext` keys that `inject` reads are declared there.
import type {} from './services-setup.js';

/** Returns `url()`, or rethrows its error with why the global setup found no server, when it knows. */
function provided(url: () => string): string {
  try {
    return url();
  } catch (error) {
    const why = inject('servicesError');
    if (why && error instanceof Error) error.message = `${error.message} Global setup: ${why}`;
    throw error;
  }
}

/** Both server URLs, for tests that hand them to a server process; throws, saying how to get them, when absent. */
export function serviceUrls(): { databaseUrl: string; redisUrl: string } {
  return { databaseUrl: provided(testDatabaseUrl), redisUrl: redisUrl() };
}

/**
 * A new empty database on the test server, so test files running in parallel never see each other's
 * tables. `drop()` terminates whatever is still connected to it (a pool a test forgot to end) and drops
 * it; calling it twice is harmless.
 */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  provided(testDatabaseUrl);
  return createTestDatabase();
}

/** The shared test Redis; throws, saying how to get one, when absent. Pair it with `redisPrefix()`. */
export function redisUrl(): string {
  return provided(testRedisUrl);
}

/** A key prefix `hk:<random hex>:` unique to this call, so test files sharing one Redis never collide. */
export const redisPrefix: () => string = testRedisPrefix;
