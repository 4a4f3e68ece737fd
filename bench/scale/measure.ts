/**
 * The measured runs of `bench/scale.ts`: one horde served by one or more server processes
 * (`bench/http/server.ts`), driven by `bench/http/load.ts`'s load generators, with the CPU and database
 * counters of `usage.ts` sampled around the measured part.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { imageRequests, type MixedFigures, mixed, type Rate } from '../http/load.js';
import type { ServerReady, ServerReport } from '../http/protocol.js';
import { withServer } from '../http/server-process.js';
import {
  type LockWaits,
  type Probe,
  postmasterPid,
  sample,
  type Usage,
  usageBetween,
  watchLockWaits,
} from './usage.js';

export interface LoadShape {
  seconds: number;
  warmupSeconds: number;
  /** Client connections in all, split evenly between the nodes. */
  connections: number;
  /** Of each node's connections, the share that are requesters (the rest are workers). */
  requesterShare: number;
}

/** Where the nodes keep the horde: SQLite (one node), or one PostgreSQL database and Redis. */
export type Backend = { store: 'sqlite' } | { store: 'postgres'; databaseUrl: string; redisUrl: string };

export interface MixedRun {
  nodes: number;
  /** Per node, in node order. */
  loads: MixedFigures[];
  servers: ServerReport[];
  usage: Usage;
  /** On PostgreSQL. */
  locks?: LockWaits;
}

export interface HotAccountRun {
  stripes: number;
  rate: Rate & { accepted: number };
  server: ServerReport;
  usage: Usage;
  locks: LockWaits;
  /** The charged account's money rows at the end, and how many are stamped for the single-stripe path. */
  account: { stripes: number; stamped: number; balance: number };
}

function backendEnv(backend: Backend, extra: Record<string, string> = {}): Record<string, string> {
  if (backend.store === 'sqlite') return { BENCH_STORE: 'sqlite', ...extra };
  return {
    BENCH_STORE: 'postgres',
    DATABASE_URL: backend.databaseUrl,
    REDIS_URL: backend.redisUrl,
    ...extra,
  };
}

/**
 * Starts `count` server processes on one horde — the first sets it up, the others join it — runs
 * `measure` against them (`mark` marks every node), then stops them, last started first.
 */
async function withNodes<T>(
  count: number,
  env: Record<string, string>,
  measure: (nodes: ServerReady[], mark: () => Promise<void>) => Promise<T>,
): Promise<{ result: T; servers: ServerReport[] }> {
  const nodes: ServerReady[] = [];
  const marks: (() => Promise<void>)[] = [];
  const markAll = async () => {
    await Promise.all(marks.map((mark) => mark()));
  };
  const start = async (index: number): Promise<{ result: T; servers: ServerReport[] }> => {
    const node = await withServer(
      'horde',
      async (ready, mark) => {
        nodes.push(ready);
        marks.push(mark);
        if (index + 1 < count) return start(index + 1);
        return { result: await measure(nodes, markAll), servers: [] };
      },
      index === 0 ? env : { ...env, BENCH_JOIN: '1' },
    );
    return { result: node.result.result, servers: [node.report, ...node.result.servers] };
  };
  return start(0);
}

/** Opens the connections that `usage.ts` samples through; closes them with `close`. */
async function openProbe(backend: Backend): Promise<Probe & { close(): Promise<void> }> {
  if (backend.store === 'sqlite') return { close: async () => {} };
  const db = new pg.Client({ connectionString: backend.databaseUrl });
  await db.connect();
  const redis = backend.redisUrl ? new Redis(backend.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
  return {
    db,
    redis,
    postmaster: await postmasterPid(db),
    async close() {
      redis?.disconnect();
      await db.end();
    },
  };
}

/** The mixed workload of `bench:http` (b) against `nodes` nodes, each given an equal share of the clients. */
export async function measureMixed(backend: Backend, nodes: number, shape: LoadShape): Promise<MixedRun> {
  const probe = await openProbe(backend);
  try {
    const perNode = Math.round(shape.connections / nodes);
    const load = (ports: ServerReady[], seconds: number) =>
      Promise.all(
        ports.map((node, i) =>
          mixed(
            {
              port: node.port,
              seconds,
              connections: perNode,
              requesterConnections: Math.round(perNode * shape.requesterShare),
              workerLabel: `node${i}-worker`,
            },
            ports[0]!.keys.requester,
            ports[0]!.keys.owners,
          ),
        ),
      );
    const { result, servers } = await withNodes(nodes, backendEnv(backend), async (ports, mark) => {
      await load(ports, shape.warmupSeconds);
      await mark();
      const before = await sample(probe);
      const locks = probe.db ? watchLockWaits(probe.db) : undefined;
      const loads = await load(ports, shape.seconds);
      const usage = usageBetween(before, await sample(probe));
      return { loads, usage, locks: await locks?.stop() };
    });
    return { nodes, ...result, servers };
  } finally {
    await probe.close();
  }
}

/**
 * `connections` clients charging one account at once through `POST /generate/async` on one PostgreSQL
 * node whose accounts have `stripes` money rows: the anonymous account (`apikey` '0000000000'), or the
 * bench's funded requester (`apikey` undefined).
 */
export async function measureHotAccount(
  backend: Backend & { store: 'postgres' },
  stripes: number,
  connections: number,
  shape: LoadShape,
  account: 'anonymous' | 'funded',
): Promise<HotAccountRun> {
  const probe = await openProbe(backend);
  try {
    const env = backendEnv(backend, { BENCH_STRIPES: String(stripes) });
    const { result, servers } = await withNodes(1, env, async ([node], mark) => {
      const apikey = account === 'anonymous' ? '0000000000' : node!.keys.requester;
      const run = { port: node!.port, connections };
      await imageRequests({ ...run, seconds: shape.warmupSeconds }, apikey);
      await mark();
      const before = await sample(probe);
      const locks = watchLockWaits(probe.db!);
      const rate = await imageRequests({ ...run, seconds: shape.seconds }, apikey);
      const usage = usageBetween(before, await sample(probe));
      const { rows } = await probe.db!.query<{ stripes: string; stamped: string; balance: string }>(
        `SELECT count(*) AS stripes, count(fast_floor) AS stamped, sum(balance) AS balance
         FROM account_money WHERE account_id = (SELECT id FROM accounts WHERE username = $1)`,
        [account === 'anonymous' ? 'Anonymous' : 'requester'],
      );
      const row = rows[0]!;
      return {
        rate,
        usage,
        locks: await locks.stop(),
        account: {
          stripes: Number(row.stripes),
          stamped: Number(row.stamped),
          balance: Number(row.balance) / 100,
        },
      };
    });
    return { stripes, ...result, server: servers[0]! };
  } finally {
    await probe.close();
  }
}

export interface RoundTrip {
  perSecond: number;
  /** CPU per statement of the client (this process, the pg driver) and of PostgreSQL, µs. */
  clientUs: number;
  postgresUs?: number;
}

/**
 * The cost of a trivial statement on this machine: `connections` clients of one pool sending
 * `SELECT $1::int` (prepared) back to back for `seconds`. The floor under every statement a store sends.
 */
export async function measureRoundTrip(
  databaseUrl: string,
  seconds: number,
  connections = 10,
): Promise<RoundTrip> {
  const probe = await openProbe({ store: 'postgres', databaseUrl, redisUrl: '' });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  try {
    await pool.query('SELECT 1');
    let statements = 0;
    const end = performance.now() + seconds * 1000;
    const before = await sample(probe);
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          await pool.query({ name: 'bench_round_trip', text: 'SELECT $1::int AS one', values: [1] });
          statements++;
        }
      }),
    );
    const usage = usageBetween(before, await sample(probe));
    return {
      perSecond: statements / usage.seconds,
      clientUs: (usage.loadGeneratorMs * 1000) / statements,
      postgresUs: usage.postgresMs === undefined ? undefined : (usage.postgresMs * 1000) / statements,
    };
  } finally {
    await pool.end();
    await probe.close();
  }
}
