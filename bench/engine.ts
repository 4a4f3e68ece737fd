/**
 * `npm run bench:engine`: the engine's performance figures for issue 2, measured through the engine's
 * verbs on a file-backed SQLite store. Each scenario runs in its own process (fresh heap, JIT and page
 * cache of SQLite), `BENCH_RUNS` times (default 3); a figure is the median of its runs. Prints a table and
 * rewrites the "Engine (issue 2)" section of `docs/benchmarks.md`.
 *
 *   npm run bench:engine
 *   BENCH_RUNS=1 npm run bench:engine       # quicker, noisier
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_MARKER } from './engine/measure.js';
import { type BenchFigures, machine, type Row, renderTable, writeSection } from './engine/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Runs one scenario in a fresh Node process and returns the result it printed. */
function scenario<T>(name: string, args: string[] = []): T {
  const script = join(root, 'bench', 'engine', `${name}.ts`);
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@hordekit/source', '--expose-gc', script, ...args],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new Error(`${name} printed no result`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as T;
}

const runs: BenchFigures[] = [];
for (let run = 1; run <= RUNS; run++) {
  process.stderr.write(`run ${run}/${RUNS}: cycles… `);
  const cycles = scenario<BenchFigures['cycles']>('cycles');
  const cyclesMany = scenario<BenchFigures['cycles']>('cycles', ['--pairs=16']);
  const cyclesPlain = scenario<BenchFigures['cycles']>('cycles', ['--plain']);
  process.stderr.write('100,000-request queue… ');
  const queue = scenario<BenchFigures['queue']>('queue');
  process.stderr.write('start-up… ');
  const startup = scenario<BenchFigures['startup']>('startup', [queue.database]);
  rmSync(dirname(queue.database), { recursive: true, force: true });
  process.stderr.write('done\n');
  runs.push({ cycles, cyclesMany, cyclesPlain, queue, startup });
}

const rows: Row[] = renderTable(runs);
const info = machine();
console.log(`\n${info.summary}\n`);
for (const row of rows) {
  console.log(
    `${row.figure.padEnd(58)} ${row.target.padStart(10)}  ${row.measured.padStart(12)}  ${row.verdict}`,
  );
}
const path = writeSection(join(root, 'docs', 'benchmarks.md'), runs, rows, info);
// The repository's formatter aligns Markdown tables; run it so `npm test`'s `biome check` stays clean.
execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', path], {
  cwd: root,
  stdio: 'ignore',
});
console.log(`\nrecorded in ${path}`);
