// @hordekit/core/testing — what driver and client implementations test themselves with.
// The conformance suites import `vitest`: use this entry point from test files only.

// time under the test's control
export { FakeClock } from './fake-clock.js';
// PostgreSQL and Redis for tests that need real servers: URLs, a database of their own, a key prefix
export {
  createTestDatabase,
  type TestDatabase,
  testDatabaseUrl,
  testRedisPrefix,
  testRedisUrl,
} from './services.js';
// the storage port's conformance suite
export { type StoreFactory, type StoreUnderTest, storeConformanceSuite } from './store-conformance.js';
// an in-memory horde with an administrator, for engine, server and adapter tests
export { createTestHorde, REGEN_AGENT, rcOf, type TestHorde, type TestUser } from './test-horde.js';
