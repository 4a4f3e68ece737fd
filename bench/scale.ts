/**
 * `npm run bench:scale`: the same horde on one node on SQLite, one node on PostgreSQL + Redis, and two nodes
 * on PostgreSQL + Redis, under the mixed workload of `bench:http` (b) with the same clients in all three;
 * then many clients charging one account at once on one PostgreSQL node, with one money stripe per
 * account and with the default eight. Every server is a child process (`bench/http/server.ts`); the load,
 * autocannon, runs here.
 *
 * PostgreSQL and Redis: the ones in DATABASE_URL and REDIS_URL when both are set, else private instances
 * (`scripts/services.sh`) started for the run and stopped after. Each configuration gets a fresh database.
 *
 * Prints a table and rewrites the "Scale-out" section of `docs/benchmarks.md`.
 *
 *   npm run bench:scale
 *   BENCH_SECONDS=3 npm run bench:scale      # quicker, noisier
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './engine/report.js';
import {
  type Backend,
  type LoadShape,
  measureHotAccount,
  measureMixed,
  measureRoundTrip,
} from './scale/measure.js';
import {
  hotTable,
  mixedTable,
  ratios,
  type ScaleFigures,
  summarize,
  summarizeHot,
  writeSection,
} from './scale/report.js';
import { openServices, withDatabase } from './scale/services.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const shape: LoadShape = {
  seconds: SECONDS,
  warmupSeconds: Math.min(2, SECONDS),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 24),
  requesterShare: 0.4,
};
const HOT_CONNECTIONS = 32;

const progress = (text: string) => process.stderr.write(text);

progress(
  process.env.DATABASE_URL && process.env.REDIS_URL
    ? 'PostgreSQL and Redis from DATABASE_URL and REDIS_URL… '
    : 'starting PostgreSQL and Redis… ',
);
const services = openServices(root);
const stopServices = (signal: NodeJS.Signals) => {
  services.stop();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
process.once('SIGINT', stopServices);
process.once('SIGTERM', stopServices);

let figures: ScaleFigures;
try {
  const postgres = (databaseUrl: string): Backend & { store: 'postgres' } => ({
    store: 'postgres',
    databaseUrl,
    redisUrl: services.redisUrl,
  });
  progress('SQLite, 1 node… ');
  const sqlite = await measureMixed({ store: 'sqlite' }, 1, shape);
  progress('PostgreSQL, 1 node… ');
  const { pg1, roundTrip } = await withDatabase(services.serverUrl, async (url) => ({
    // The floor under every statement, measured on the same database just before.
    roundTrip: await measureRoundTrip(url, shape.warmupSeconds),
    pg1: await measureMixed(postgres(url), 1, shape),
  }));
  progress('PostgreSQL, 2 nodes… ');
  const pg2 = await withDatabase(services.serverUrl, (url) => measureMixed(postgres(url), 2, shape));
  const hot = {
    anonymous: [] as ScaleFigures['hot']['anonymous'],
    funded: [] as ScaleFigures['hot']['funded'],
  };
  for (const account of ['anonymous', 'funded'] as const) {
    for (const stripes of [1, 8]) {
      progress(`${HOT_CONNECTIONS} clients charging the ${account} account, ${stripes} stripe(s)… `);
      hot[account].push(
        await withDatabase(services.serverUrl, (url) =>
          measureHotAccount(postgres(url), stripes, HOT_CONNECTIONS, shape, account),
        ),
      );
    }
  }
  progress('done\n');
  figures = {
    shape,
    services: services.description,
    sqlite,
    pg1,
    pg2,
    roundTrip,
    hotConnections: HOT_CONNECTIONS,
    hot,
  };
} finally {
  services.stop();
}

if (process.env.BENCH_VERBOSE) {
  const mixedRuns = [figures.sqlite, figures.pg1, figures.pg2].map(summarize);
  const hot = [...figures.hot.anonymous, ...figures.hot.funded].map(summarizeHot);
  process.stderr.write(`${JSON.stringify({ mixedRuns, hot }, null, 2)}\n`);
}
const info = machine();
console.log(`\n${info.summary}\n\n${mixedTable(figures)}\n\n${hotTable(figures)}\n`);
for (const line of ratios(figures)) console.log(line);
const path = writeSection(join(root, 'docs', 'benchmarks.md'), figures, info);
// The repository's formatter aligns Markdown tables; run it so `npm test`'s `biome check` stays clean.
execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', path], {
  cwd: root,
  stdio: 'ignore',
});
console.log(`\nrecorded in ${path}`);
