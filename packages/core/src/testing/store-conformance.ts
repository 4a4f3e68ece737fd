/**
 * The `HordeStore` conformance suite: every driver runs it, unchanged, in its own test file (principle 9,
 * in the spirit of unstorage's `testDriver`). It drives the store only through the port, with plain
 * numbers for time and integer centikudos for money, so it says what the port promises and nothing about
 * how a driver keeps it.
 *
 * It registers vitest `describe`/`it` blocks, so this testing entry point imports `vitest` (and
 * `fast-check` for one property): both are devDependencies of the workspace, which is acceptable for a
 * testing entry point. Import it from test files only.
 *
 * @example
 * storeConformanceSuite('sqlite (:memory:)', async () => ({
 *   store: await createSqliteStore({ path: ':memory:' }),
 * }));
 */
import { describe } from 'vitest';
import { accountCases } from './store-conformance/accounts.js';
import { generationStatsCases } from './store-conformance/generation-stats.js';
import type { StoreFactory } from './store-conformance/harness.js';
import { useStore } from './store-conformance/harness.js';
import { integrityCases } from './store-conformance/integrity.js';
import { jobCases } from './store-conformance/jobs.js';
import { ledgerCases } from './store-conformance/ledger.js';
import { lifecycleCases } from './store-conformance/lifecycle.js';
import { persistenceCases } from './store-conformance/persistence.js';
import { queueCases } from './store-conformance/queue.js';
import { requestCases } from './store-conformance/requests.js';
import { workerCases } from './store-conformance/workers.js';

export type { StoreFactory, StoreUnderTest } from './store-conformance/harness.js';

/**
 * Registers the suite under `name`. `factory` gives each test a fresh, empty store; the suite closes it
 * (and calls `cleanup`) afterwards. The persistence cases skip themselves when `reopen` is absent.
 */
export function storeConformanceSuite(name: string, factory: StoreFactory): void {
  describe(`HordeStore conformance: ${name}`, () => {
    const h = useStore(factory);
    accountCases(h);
    ledgerCases(h);
    requestCases(h);
    jobCases(h);
    lifecycleCases(h);
    queueCases(h);
    workerCases(h);
    generationStatsCases(h);
    integrityCases(h);
    persistenceCases(h);
  });
}
