/**
 * Start-up on a long queue: `createSqliteStore` + `createHorde` on the database the queue scenario left
 * (100,000 waiting requests), in a fresh process so neither its memory nor its JIT state carries over. The
 * file was just written, so it is read from the OS page cache, as after a restart on the same machine.
 *
 *   node --import tsx --conditions=@hordekit/source --expose-gc bench/engine/startup.ts <database>
 */
import { createHorde } from '@hordekit/core';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { BENCH_CONFIG } from './fixtures.js';
import { emitResult, memoryDelta, memoryNow, nowUs } from './measure.js';

const path = process.argv[2];
if (!path) throw new Error('usage: startup.ts <database>');

const before = memoryNow();
const start = nowUs();
const store = await createSqliteStore({ path });
const opened = nowUs();
const horde = await createHorde({ store, config: BENCH_CONFIG });
const ready = nowUs();
const after = memoryNow();
const summary = await horde.store.queueSummary('image');
await horde.close();

emitResult({
  seconds: (ready - start) / 1e6,
  storeSeconds: (opened - start) / 1e6,
  waiting: summary.requests,
  memory: { before, after, delta: memoryDelta(after, before) },
});
