/** The figures of `bench/scale.ts`, as printed tables and as a section of `docs/benchmarks.md`. */
import { replaceSection } from '../benchmarks-doc.js';
import type { MachineInfo } from '../engine/report.js';
import type { ServerReport } from '../http/protocol.js';
import { percentile } from '../http/report.js';
import type { HotAccountRun, LoadShape, MixedRun, RoundTrip } from './measure.js';

export const HEADING = '## Scale-out (`npm run bench:scale`)';

export interface ScaleFigures {
  shape: LoadShape;
  /** Where PostgreSQL and Redis came from. */
  services: string;
  sqlite: MixedRun;
  pg1: MixedRun;
  pg2: MixedRun;
  /** A trivial statement's cost, measured before the PostgreSQL node. */
  roundTrip: RoundTrip;
  hotConnections: number;
  /** Stripes 1, then 8. */
  hot: { anonymous: HotAccountRun[]; funded: HotAccountRun[] };
}

const number = (digits: number) => (value: number | undefined) =>
  value !== undefined && Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '—';
const int = number(0);
const one = number(1);
const two = number(2);
const percent = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) ? `${(value * 100).toFixed(0)} %` : '—';
const times = (value: number) => `× ${two(value)}`;
const per = (value: number | undefined, count: number) => (value === undefined ? undefined : value / count);

/** One mixed run, every node's load and servers together. CPU in cores: CPU time over the measured run's wall time. */
export interface MixedSummary {
  nodes: number;
  responsesPerSecond: number;
  jobsPerSecond: number;
  jobs: number;
  accepted: number;
  emptyPops: number;
  failures: number;
  pop: { p50: number; p99: number };
  submit: { p50: number; p99: number };
  nodeCores: number[];
  /** Per node, the share of the run its event loop was busy. */
  eventLoopBusy: number[];
  /** Per node, the shares of the run its main thread was running, and ready to run but waiting for a core. */
  mainThread: ThreadShares[];
  nodeKernel: number;
  postgresCores?: number;
  postgresKernel?: number;
  redisCores?: number;
  loadGeneratorCores: number;
  /** Cores busy with anything else on the machine (other test suites, the kernel's own threads). */
  otherCores: number;
  machineBusy: number;
  cores: number;
  perJob: {
    nodeUs: number;
    postgresUs?: number;
    nodeWrites?: number;
    commits?: number;
    walSyncs?: number;
    walKb?: number;
  };
  commitsPerSync?: number;
  lockWaiting?: number;
  queued: number;
  ledgerBalances: boolean;
}

interface ThreadShares {
  running: number;
  waiting: number;
}

/** The shares of the measured run that a server's main thread was running and waiting for a core. */
function threadShares(server: ServerReport): ThreadShares {
  if (!server.mainThread || !server.sinceMarkMs) return { running: Number.NaN, waiting: Number.NaN };
  return {
    running: server.mainThread.runningMs / server.sinceMarkMs,
    waiting: server.mainThread.waitingMs / server.sinceMarkMs,
  };
}

const threadCell = (busy: number, thread: ThreadShares) =>
  `${percent(busy)} / ${percent(thread.running)} / ${percent(thread.waiting)}`;

export function summarize(run: MixedRun): MixedSummary {
  const seconds = Math.max(...run.loads.flatMap((l) => [l.requesters.seconds, l.workers.rate.seconds]));
  const sum = (pick: (l: MixedRun['loads'][number]) => number) =>
    run.loads.reduce((total, load) => total + pick(load), 0);
  const jobs = sum((l) => l.workers.cycles);
  const pops = run.loads.flatMap((l) => l.workers.latencies.pop);
  const submits = run.loads.flatMap((l) => l.workers.latencies.submit);
  const { usage } = run;
  const wallMs = usage.seconds * 1000;
  const nodeMs = run.servers.reduce((total, s) => total + s.cpuMs, 0);
  const writes = run.servers.every((s) => s.writeSyscalls !== undefined)
    ? run.servers.reduce((total, s) => total + s.writeSyscalls!, 0)
    : undefined;
  const nodeCores = run.servers.map((s) => s.cpuMs / wallMs);
  const ours = nodeMs + (usage.postgresMs ?? 0) + (usage.redisMs ?? 0) + usage.loadGeneratorMs;
  return {
    nodes: run.nodes,
    responsesPerSecond: sum((l) => l.responses) / seconds,
    jobsPerSecond: jobs / seconds,
    jobs,
    accepted: sum((l) => l.accepted),
    emptyPops: sum((l) => l.workers.emptyPops),
    failures: sum((l) => l.non2xx + l.errors),
    pop: { p50: percentile(pops, 50), p99: percentile(pops, 99) },
    submit: { p50: percentile(submits, 50), p99: percentile(submits, 99) },
    nodeCores,
    eventLoopBusy: run.servers.map((s) => s.eventLoopBusy ?? Number.NaN),
    mainThread: run.servers.map(threadShares),
    nodeKernel: run.servers.reduce((total, s) => total + s.systemMs, 0) / nodeMs,
    postgresCores: per(usage.postgresMs, wallMs),
    postgresKernel: per(usage.postgresSystemMs, usage.postgresMs ?? Number.NaN),
    redisCores: per(usage.redisMs, wallMs),
    loadGeneratorCores: usage.loadGeneratorMs / wallMs,
    otherCores: Math.max(0, usage.machineBusy * usage.cores - ours / wallMs),
    machineBusy: usage.machineBusy,
    cores: usage.cores,
    perJob: {
      nodeUs: (nodeMs * 1000) / jobs,
      postgresUs: per(usage.postgresMs === undefined ? undefined : usage.postgresMs * 1000, jobs),
      nodeWrites: per(writes, jobs),
      commits: per(usage.commits, jobs),
      walSyncs: per(usage.walSyncs, jobs),
      walKb: per(usage.walBytes === undefined ? undefined : usage.walBytes / 1024, jobs),
    },
    commitsPerSync: usage.walSyncs ? per(usage.commits, usage.walSyncs) : undefined,
    lockWaiting: run.locks?.waiting,
    queued: run.servers[0]!.queued,
    ledgerBalances: run.servers.every((s) => s.ledgerBalances),
  };
}

/** One hot-account run. */
export interface HotSummary {
  stripes: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
  moneyRowsPerRequest?: number;
  commitsPerRequest?: number;
  lockWaiting: number;
  nodeCores: number;
  eventLoopBusy: number;
  mainThread: ThreadShares;
  postgresCores?: number;
  otherCores: number;
  balance: number;
  stamped: string;
}

export function summarizeHot(run: HotAccountRun): HotSummary {
  const { usage, rate } = run;
  const wallMs = usage.seconds * 1000;
  const ours = run.server.cpuMs + (usage.postgresMs ?? 0) + (usage.redisMs ?? 0) + usage.loadGeneratorMs;
  return {
    stripes: run.stripes,
    perSecond: rate.perSecond,
    p50: rate.latencyP50,
    p99: rate.latencyP99,
    failures: rate.non2xx + rate.errors + rate.timeouts,
    moneyRowsPerRequest: per(usage.moneyRowUpdates, rate.responses),
    commitsPerRequest: per(usage.commits, rate.responses),
    lockWaiting: run.locks.waiting,
    nodeCores: run.server.cpuMs / wallMs,
    eventLoopBusy: run.server.eventLoopBusy ?? Number.NaN,
    mainThread: threadShares(run.server),
    postgresCores: per(usage.postgresMs, wallMs),
    otherCores: Math.max(0, usage.machineBusy * usage.cores - ours / wallMs),
    balance: run.account.balance,
    stamped: `${run.account.stamped} of ${run.account.stripes}`,
  };
}

/** A Markdown table, columns padded (the first left-aligned, the others right-aligned). */
function table(header: string[], body: string[][]): string {
  const rows = [header, ...body];
  const widths = header.map((_, c) => Math.max(3, ...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

interface Summaries {
  sqlite: MixedSummary;
  pg1: MixedSummary;
  pg2: MixedSummary;
  anonymous: HotSummary[];
  funded: HotSummary[];
}

function summaries(figures: ScaleFigures): Summaries {
  return {
    sqlite: summarize(figures.sqlite),
    pg1: summarize(figures.pg1),
    pg2: summarize(figures.pg2),
    anonymous: figures.hot.anonymous.map(summarizeHot),
    funded: figures.hot.funded.map(summarizeHot),
  };
}

export function mixedTable(figures: ScaleFigures): string {
  const s = summaries(figures);
  const runs = [s.sqlite, s.pg1, s.pg2];
  const row = (name: string, cell: (m: MixedSummary) => string) => [name, ...runs.map(cell)];
  return table(
    ['Mixed workload', 'SQLite, 1 node', 'PostgreSQL, 1 node', 'PostgreSQL, 2 nodes'],
    [
      row('**Jobs completed /s**', (m) => `**${int(m.jobsPerSecond)}**`),
      row('Responses /s', (m) => int(m.responsesPerSecond)),
      row('Pop latency p50 / p99, ms', (m) => `${one(m.pop.p50)} / ${one(m.pop.p99)}`),
      row('Submit latency p50 / p99, ms', (m) => `${one(m.submit.p50)} / ${one(m.submit.p99)}`),
      row(
        'Node CPU, cores (kernel share)',
        (m) => `${m.nodeCores.map(two).join(' + ')} (${percent(m.nodeKernel)})`,
      ),
      row('Node event loop busy / main thread running / waiting for a core', (m) =>
        m.eventLoopBusy.map((busy, i) => threadCell(busy, m.mainThread[i]!)).join(', '),
      ),
      row('PostgreSQL CPU, cores (kernel share)', (m) =>
        m.postgresCores === undefined ? '—' : `${two(m.postgresCores)} (${percent(m.postgresKernel)})`,
      ),
      row('Redis CPU, cores', (m) => two(m.redisCores)),
      row('Load generator CPU, cores', (m) => two(m.loadGeneratorCores)),
      row('Other processes, cores', (m) => two(m.otherCores)),
      row('Machine busy', (m) => percent(m.machineBusy)),
      row('Node CPU per job, µs', (m) => int(m.perJob.nodeUs)),
      row('PostgreSQL CPU per job, µs', (m) => int(m.perJob.postgresUs)),
      row('Node write syscalls per job', (m) => one(m.perJob.nodeWrites)),
      row('PostgreSQL transactions per job', (m) => one(m.perJob.commits)),
      row('WAL fsyncs per job (transactions per fsync)', (m) =>
        m.perJob.walSyncs === undefined ? '—' : `${two(m.perJob.walSyncs)} (${one(m.commitsPerSync)})`,
      ),
      row('WAL per job, KiB', (m) => one(m.perJob.walKb)),
      row('Sessions waiting on a lock (mean)', (m) => two(m.lockWaiting)),
      row('Requests accepted / empty pops', (m) => `${int(m.accepted)} / ${int(m.emptyPops)}`),
      row('Errors (non-2xx, socket)', (m) => int(m.failures)),
      row(
        'Waiting at the end; ledger balanced',
        (m) => `${int(m.queued)}; ${m.ledgerBalances ? 'yes' : 'NO'}`,
      ),
    ],
  );
}

export function hotTable(figures: ScaleFigures): string {
  const s = summaries(figures);
  const runs = [...s.anonymous, ...s.funded];
  const row = (name: string, cell: (h: HotSummary) => string) => [name, ...runs.map(cell)];
  return table(
    [
      `${figures.hotConnections} clients, one account`,
      'anonymous, 1 stripe',
      'anonymous, 8 stripes',
      'funded, 1 stripe',
      'funded, 8 stripes',
    ],
    [
      row('**`POST /generate/async` /s**', (h) => `**${int(h.perSecond)}**`),
      row('Latency p50 / p99, ms', (h) => `${one(h.p50)} / ${one(h.p99)}`),
      row('Money rows updated per request', (h) => one(h.moneyRowsPerRequest)),
      row('Sessions waiting on a lock (mean)', (h) => two(h.lockWaiting)),
      row('PostgreSQL transactions per request', (h) => one(h.commitsPerRequest)),
      row(
        'Node / PostgreSQL / other CPU, cores',
        (h) => `${two(h.nodeCores)} / ${two(h.postgresCores)} / ${two(h.otherCores)}`,
      ),
      row('Node event loop busy / main thread running / waiting for a core', (h) =>
        threadCell(h.eventLoopBusy, h.mainThread),
      ),
      row('Balance at the end, kudos', (h) => int(h.balance)),
      row('Stripes stamped for the fast path', (h) => h.stamped),
      row('Errors', (h) => int(h.failures)),
    ],
  );
}

export function ratios(figures: ScaleFigures): string[] {
  const s = summaries(figures);
  const [anon1, anon8] = s.anonymous as [HotSummary, HotSummary];
  const [funded1, funded8] = s.funded as [HotSummary, HotSummary];
  return [
    `PostgreSQL 1 node ÷ SQLite: jobs/s ${times(s.pg1.jobsPerSecond / s.sqlite.jobsPerSecond)}, responses/s ${times(s.pg1.responsesPerSecond / s.sqlite.responsesPerSecond)}`,
    `PostgreSQL 2 nodes ÷ 1 node: jobs/s ${times(s.pg2.jobsPerSecond / s.pg1.jobsPerSecond)}, responses/s ${times(s.pg2.responsesPerSecond / s.pg1.responsesPerSecond)}`,
    `8 stripes ÷ 1 stripe, anonymous account: requests/s ${times(anon8.perSecond / anon1.perSecond)}, p99 ${times(anon8.p99 / anon1.p99)}`,
    `8 stripes ÷ 1 stripe, funded account: requests/s ${times(funded8.perSecond / funded1.perSecond)}, p99 ${times(funded8.p99 / funded1.p99)}`,
    `A trivial statement (\`SELECT $1::int\`, 10 pooled clients): ${int(figures.roundTrip.perSecond)} /s, ${one(figures.roundTrip.clientUs)} µs of client CPU and ${one(figures.roundTrip.postgresUs)} µs of PostgreSQL CPU each`,
  ];
}

/**
 * Where the nodes' JavaScript threads were during the run, and what that makes the limit: a busy event loop
 * whose thread ran most of the time is saturated; one whose thread spent much of it waiting for a core was
 * starved by the other processes.
 */
function threads(m: MixedSummary, sharers: string): string {
  const list = (values: number[]) => values.map(percent).join(' and ');
  const single = m.nodes === 1;
  const state =
    `${single ? "The node's event loop was" : "The nodes' event loops were"} ${list(m.eventLoopBusy)} busy; ` +
    `${single ? 'its main thread' : 'their main threads'} ran ${list(m.mainThread.map((t) => t.running))} of the time ` +
    `and waited for a core ${list(m.mainThread.map((t) => t.waiting))}`;
  if (m.mainThread.every((t) => t.waiting >= 0.15 && t.waiting >= t.running))
    return `${state}: ${single ? 'it' : 'they'} waited for a core longer than ${single ? 'it' : 'they'} ran, sharing the machine's two cores with ${sharers} — the cores are the limit.`;
  if (!m.eventLoopBusy.every((busy) => busy >= 0.9)) return `${state}: not saturated.`;
  if (m.mainThread.every((t) => t.waiting < 0.15))
    return `${state}: saturated, so ${single ? 'that one thread is' : 'those threads are'} the limit.`;
  return `${state}: saturated, and held back by ${sharers} taking the core ${single ? 'it' : 'they'} needed — ${single ? 'its thread' : 'their threads'} and the machine's two cores are the limit together.`;
}

/** What limits each configuration, with this run's numbers. */
function limits(figures: ScaleFigures): string {
  const { sqlite, pg1, pg2, anonymous, funded } = summaries(figures);
  const [anon1, anon8] = anonymous as [HotSummary, HotSummary];
  const [funded1, funded8] = funded as [HotSummary, HotSummary];
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const twoNodes = pg2.jobsPerSecond / pg1.jobsPerSecond;
  const perTransactionUs = (pg1.perJob.postgresUs ?? Number.NaN) / (pg1.perJob.commits ?? Number.NaN);
  const wholeAccount = (anon8.moneyRowsPerRequest ?? 0) >= 4;
  const stripesHelped = funded8.lockWaiting < funded1.lockWaiting / 2;
  const { roundTrip } = figures;
  const bullets = [
    `**What limits each configuration.** CPU is CPU time over the measured run's wall time, in cores (the
    machine has ${sqlite.cores}). A node's event loop is busy when its JavaScript thread is not waiting for I/O
    (\`performance.eventLoopUtilization\`): running, or ready to run and waiting for a core; the main
    thread's scheduler statistics (\`/proc/self/task/<pid>/schedstat\`: time running, time waiting for a
    core) tell the two apart.`,
    `- **One node on SQLite** does a job's whole work in one process, with no round trip to another:
    ${int(sqlite.perJob.nodeUs)} µs of node CPU per completed job and ${one(sqlite.perJob.nodeWrites)} write syscalls
    (HTTP responses and SQLite's group-committed WAL appends). The node used ${two(sum(sqlite.nodeCores))} cores
    (SQLite's checkpoint thread, libuv and the garbage collector's threads besides the main one), the load
    generator ${two(sqlite.loadGeneratorCores)}. ${threads(sqlite, 'the load generator and other processes')} The
    node's work is the engine's verbs and the HTTP layer (see the HTTP server section).`,
    `- **One node on PostgreSQL** does the same engine and HTTP work, but every store call is a statement sent
    to PostgreSQL and waited for: ${one(pg1.perJob.commits)} PostgreSQL transactions per completed job (a statement
    outside a transaction counts as one; a transaction takes several round trips: \`BEGIN\`, savepoints,
    \`COMMIT\`), and ${one(pg1.perJob.nodeWrites)} write syscalls per job from the node against
    ${one(sqlite.perJob.nodeWrites)} on SQLite. That costs ${int(pg1.perJob.nodeUs)} µs of node CPU per job,
    ${times(pg1.perJob.nodeUs / sqlite.perJob.nodeUs)} SQLite's. ${threads(pg1, 'PostgreSQL and the load generator')}
    Little of the node's CPU is the kernel
    (${percent(pg1.nodeKernel)}), and a round trip alone is cheap here (a trivial \`SELECT\` from 10 pooled
    clients: ${int(roundTrip.perSecond)} per second, ${one(roundTrip.clientUs)} µs of client CPU each): the cost is the
    JavaScript around each statement — the pg driver's query objects, row descriptions and row parsing (JSON
    bodies, arrays, numeric sums), the store's code, then the garbage collector (a CPU profile,
    \`BENCH_MEASURED_PROF=<dir>\`, has those at the top) — times the statements per job. PostgreSQL used
    ${two(pg1.postgresCores)} cores (${percent(pg1.postgresKernel)} in the kernel), ${int(pg1.perJob.postgresUs)} µs per
    job, about ${int(perTransactionUs)} µs per transaction against ${one(roundTrip.postgresUs)} µs for the trivial
    \`SELECT\`. Durability is not the bound: ${two(pg1.perJob.walSyncs)} WAL fsyncs per job, group commit folding
    ${one(pg1.commitsPerSync)} transactions into each; nor are row locks: ${two(pg1.lockWaiting)} sessions waiting on a
    lock on average.`,
    `- **Two nodes on PostgreSQL** split the same clients. The nodes used ${pg2.nodeCores.map(two).join(' + ')}
    cores, PostgreSQL ${two(pg2.postgresCores)}, the load generator ${two(pg2.loadGeneratorCores)}, the machine was
    ${percent(pg2.machineBusy)} busy. ${threads(pg2, 'the other node, PostgreSQL and the load generator')} A job costs the same or more (${int(pg2.perJob.nodeUs)} µs of node
    CPU, ${int(pg2.perJob.postgresUs)} µs of PostgreSQL CPU, ${one(pg2.perJob.commits)} transactions), so on two cores a
    second node adds a process to schedule, not capacity: jobs/s ${times(twoNodes)} of one node${
      twoNodes < 0.95 ? ', lower' : twoNodes > 1.05 ? ', higher' : ', the same within noise'
    }. Redis carried the request events between the nodes for ${two(pg2.redisCores)} cores. Scale-out pays when
    each node has cores of its own: a node then allows about ${int(1e6 / pg1.perJob.nodeUs)} jobs/s, and
    PostgreSQL, at ${int(pg1.perJob.postgresUs)} µs per job, about ${int(1e6 / (pg1.perJob.postgresUs ?? Number.NaN))}
    jobs/s per core of its own — the bound after that, and the reason the statements per job are the thing to
    cut.`,
    `- **Many clients charging one account**: ${figures.hotConnections} connections posting image requests, no
    workers, one PostgreSQL node ("money rows updated" from \`pg_stat_user_tables\`, lock waits sampled from
    \`pg_stat_activity\` every 50 ms). ${
      wholeAccount
        ? `The anonymous account updated ${one(anon1.moneyRowsPerRequest)} money rows per request with 1 stripe and
    ${one(anon8.moneyRowsPerRequest)} with 8: every request took the whole-account path (lock every stripe, then
    spread them). The anonymous account pays tax and never earns, so it sits at its floor (${int(anon8.balance)}
    kudos at the end), where the single-stripe guard never lets a debit through: its charges queue behind
    each other — ${two(anon1.lockWaiting)} and ${two(anon8.lockWaiting)} sessions waiting
    on a lock on average, 8 stripes ÷ 1 ${times(anon8.perSecond / anon1.perSecond)} requests/s: however many
    stripes it has, the anonymous account's charges are serialised on them.`
        : `The anonymous account updated ${one(anon1.moneyRowsPerRequest)} money rows per request with 1 stripe and
    ${one(anon8.moneyRowsPerRequest)} with 8; ${two(anon1.lockWaiting)} and ${two(anon8.lockWaiting)} sessions waited
    on a lock on average; 8 stripes ÷ 1 ${times(anon8.perSecond / anon1.perSecond)} requests/s.`
    } The funded requester (1,000,000 kudos) took the single-stripe path (${one(funded8.moneyRowsPerRequest)}
    rows per request): with 1 stripe ${two(funded1.lockWaiting)} sessions waited on its row on average and the
    node's event loop was ${percent(funded1.eventLoopBusy)} busy; with 8, ${two(funded8.lockWaiting)} waited and the
    loop was ${percent(funded8.eventLoopBusy)} busy: ${times(funded8.perSecond / funded1.perSecond)} requests/s, p99
    ${one(funded1.p99)} → ${one(funded8.p99)} ms. ${
      !stripesHelped
        ? `In this run the stripes did not reduce the lock waits; the cores were the limit (PostgreSQL
    ${two(funded8.postgresCores)} cores, the node ${two(funded8.nodeCores)}).`
        : funded8.perSecond / funded1.perSecond >= 1.2
          ? `One row is the limit of a funded account with one stripe, and the stripes remove it; with them
    the cores are the limit again (PostgreSQL ${two(funded8.postgresCores)} cores, the node
    ${two(funded8.nodeCores)}, whose thread waited for a core ${percent(funded8.mainThread.waiting)} of the run).`
          : `The stripes remove the queue on the row but add little rate: the two cores are the limit here
    (PostgreSQL used ${two(funded1.postgresCores)} → ${two(funded8.postgresCores)} cores, and the node's thread
    waited for a core ${percent(funded1.mainThread.waiting)} → ${percent(funded8.mainThread.waiting)} of the run). On a
    machine with cores to spare, the queue on one row would be the bound.`
    }`,
  ];
  const [intro, ...items] = bullets.map((text) => wrap(text, text.startsWith('- ') ? '  ' : ''));
  return `${intro}\n\n${items.join('\n')}\n`;
}

/** Reflows a paragraph to lines of at most 110 characters, continuation lines indented by `indent`. */
function wrap(text: string, indent: string): string {
  // A unit stays on the line of its number.
  const words = text.split(/\s+(?!%|µs\b|ms\b)/).filter((word) => word !== '');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > 110) {
      lines.push(line);
      line = indent + word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

function section(figures: ScaleFigures, info: MachineInfo): string {
  const { shape } = figures;
  const requesters = Math.round(shape.connections * shape.requesterShare);
  const perNode = Math.round(shape.connections / 2);
  const perNodeRequesters = Math.round(perNode * shape.requesterShare);
  const paragraphs = [
    `Measured by \`npm run bench:scale\` (\`bench/scale.ts\`) on ${info.date} UTC. Every node is a child process
    (\`bench/http/server.ts\`) running \`createServer\` from \`@hordekit/horde-server\` with rate limits off, as
    in \`bench:http\`: on SQLite, file SQLite and the SQLite image store (what \`npm start\` uses); on
    PostgreSQL, \`createPostgresStore\` (a pool of 10 connections, 8 money stripes per account), the PostgreSQL
    image store, the sweeps on an elected leader and request events over Redis (\`createRedisEventBus\`), as
    \`DATABASE_URL\` and \`REDIS_URL\` compose a node. PostgreSQL and Redis: ${figures.services}; a fresh
    database per configuration.`,
    `The load is \`bench:http\`'s mixed workload (b), from autocannon in the parent process:
    ${shape.connections} connections in all, ${requesters} requesters (an image request, then \`check\` four times)
    and ${shape.connections - requesters} workers (pop, upload the WebP, submit), each a distinct worker; with two
    nodes each node gets ${perNodeRequesters} requesters and ${perNode - perNodeRequesters} workers, and a worker pops
    whichever node's requests are waiting. ${shape.seconds} s per figure after a ${shape.warmupSeconds} s warm-up.
    Latencies are autocannon's, per request, from sending it to the end of the response. A completed job is a
    submit answered 200; jobs completed per second is the figure that matters to users.`,
    `Machine: ${info.summary}. The machine is shared and noisy ("other processes" below is what it spent on
    anything else during a run): compare the ratios within one run, not figures across runs.`,
  ];
  const hot = `The second table: ${figures.hotConnections} connections posting image requests (\`POST
    /api/v2/generate/async\`) with one API key as fast as they are answered, ${shape.seconds} s after a
    ${shape.warmupSeconds} s warm-up, on one PostgreSQL node whose accounts have 1 money stripe or the default 8
    (\`BENCH_STRIPES\`, set before the horde starts, so the anonymous account has them too): the anonymous
    account (key \`0000000000\`, taxed like any requester), then the bench's requester with 1,000,000 kudos.`;
  return `${HEADING}

${paragraphs.map((text) => wrap(text, '')).join('\n\n')}

${mixedTable(figures)}

${wrap(hot, '')}

${hotTable(figures)}

Ratios, this run:

${ratios(figures)
  .map((line) => wrap(`- ${line}`, '  '))
  .join('\n')}

${limits(figures)}`;
}

/** Rewrites this benchmark's section of `docs/benchmarks.md`, leaving the rest of the file alone. */
export function writeSection(path: string, figures: ScaleFigures, info: MachineInfo): string {
  return replaceSection(path, HEADING, section(figures, info));
}
