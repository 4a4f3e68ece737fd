/**
 * Scale-out (issue 6), one account under contention over HTTP: three community-horde processes on one
 * PostgreSQL database and one Redis, one registered (pseudonymous) account holding 1,000 kudos, and 1,000
 * calls from that account fired at once, round-robin over the three nodes:
 *
 * - 40 image requests over the free tier (1024², 50 steps: `KudosUpfront` applies, so each reserves its
 *   dry-run estimate up front, or is refused);
 * - 200 small image requests (512², 10 steps): free tier, taxed 3 kudos at acceptance;
 * - 760 transfers of 1 or 2 kudos to four recipients (every other one with an `Idempotency-Key`).
 *
 * What is taken at call time (taxes, reservations, transfers) is about three times the balance, and the
 * requests that are accepted are charged again when three simulated workers (one per node) deliver them.
 * While all that runs, the account's balance is polled over HTTP on every node and read from the database.
 *
 * Checked: every call is answered, never with a 5xx, refusals are the expected 4xx; the balance is never
 * seen below the pseudonymous floor; the batch completes (no deadlock: it ends well within its deadline, and
 * PostgreSQL reports no deadlock it had to break); after the workers drain, the ledger is consistent and the
 * account's balance is exactly its grant minus its transfers minus what its requests consumed (net of what
 * the floor forgave), to the centikudo.
 */
import { DEFAULT_CONFIG, toCenti } from '@hordekit/core';
import { createPostgresStore, type PostgresStore } from '@hordekit/core/postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../support/app-process.js';
import { type Cluster, type ClusterNode, startCluster } from '../support/cluster.js';
import {
  callNode,
  createTestUser,
  emptyHttpLog,
  emptyWorkLog,
  type HttpLog,
  runWorkers,
  type SimWorker,
  sleep,
  smallImageRequest,
  type TestUser,
} from '../support/cluster-load.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import type { HttpResult } from '../support/restart-load.js';
import { CI_CLIENT_AGENT } from '../support/server.js';
import { freshDatabase, redisUrl } from '../support/services.js';

const CALLS = 1_000;
const GRANT_KUDOS = 1_000;
/** A registered account's floor, as the API shows kudos (the nodes run the default floors). */
const FLOOR_KUDOS = DEFAULT_CONFIG.floors.pseudonymous;
/** How long the 1,000 calls may take before the test calls it a deadlock. */
const BATCH_DEADLINE_MS = 30_000;
const DRAIN_DEADLINE_MS = 25_000;
/** The refusals a call may get when the account runs dry (or has too many jobs at once). */
const EXPECTED_REFUSALS: Record<Kind, readonly string[]> = {
  upfront: ['KudosUpfront', 'TooManyPrompts'],
  cheap: ['TooManyPrompts'],
  transfer: ['KudosTransferNotEnough'],
};

type Kind = 'upfront' | 'cheap' | 'transfer';

function kindOf(i: number): Kind {
  if (i % 25 === 0) return 'upfront';
  if (i % 5 === 1) return 'cheap';
  return 'transfer';
}

/** Over the free tier twice over: 1024² (above the busy-horde size limit) and 50 steps (above 40). */
function upfrontImageRequest(prompt: string) {
  return {
    prompt,
    nsfw: false,
    models: ['stable_diffusion'],
    params: { width: 1024, height: 1024, steps: 50, n: 1, sampler_name: 'k_euler_a' },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Last registered, first undone: pollers and workers stop before their nodes, nodes before the database.
  for (const cleanup of cleanups.splice(0).reverse()) {
    await bounded(cleanup(), 15_000, 'cleanup').catch((error: unknown) =>
      console.error('cleanup failed:', error),
    );
  }
}, 60_000);

beforeAll(() => buildApp(), 180_000);

/** `promise`, or a rejection naming `what` after `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `callNode` with extra headers (an `Idempotency-Key`), logged the same way. */
async function send(
  log: HttpLog,
  node: ClusterNode,
  path: string,
  options: { apikey: string; body: unknown; headers?: Record<string, string> },
): Promise<HttpResult> {
  const headers: Record<string, string> = {
    'Client-Agent': CI_CLIENT_AGENT,
    'Content-Type': 'application/json',
    apikey: options.apikey,
    ...options.headers,
  };
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${node.app.api}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(options.body),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    log.failures.push({
      node: node.index,
      method: 'POST',
      path,
      error: `${(error as Error).message}${cause ? ` (${cause})` : ''}`,
      at: Date.now(),
    });
    throw error;
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : text;
  } catch {}
  log.answers.push({ node: node.index, method: 'POST', path, status, body, at: Date.now() });
  return { status, body };
}

function serverErrors(logs: HttpLog[], node: ClusterNode): string[] {
  const answers = logs.flatMap((log) =>
    log.answers.filter((answer) => answer.node === node.index && answer.status >= 500),
  );
  const logged = node.app
    .output()
    .split('\n')
    .filter((line) => line.includes('"level":50') || line.includes('"level":60'));
  return [...answers.map((answer) => `${answer.method} ${answer.path} → ${answer.status}`), ...logged];
}

interface Outcome {
  i: number;
  kind: Kind;
  node: number;
  status?: number;
  rc?: string;
  /** The accepted request's id (202). */
  requestId?: string;
  /** Kudos moved by a transfer answered 200. */
  transferred?: number;
  error?: string;
  ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('one account, three nodes, 1,000 concurrent calls', () => {
  it('never goes below its floor, never deadlocks, and balances to the centikudo', async () => {
    const started = Date.now();
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    const cluster: Cluster = await startCluster({
      size: 3,
      databaseUrl: database.url,
      redisUrl: redisUrl(),
      config: {
        queue: { sweepIntervalMs: 1_000 },
        // Long enough that no lease runs out while the nodes are saturated.
        jobs: { minTtlSeconds: 30, imageTtlBaseSeconds: 1, imageTtlPerStep: 0 },
      },
    });
    cleanups.push(() => cluster.stop());
    const store: PostgresStore = await createPostgresStore({ connectionString: database.url, poolSize: 3 });
    cleanups.push(() => store.close());
    const { nodes } = cluster;
    const startedIn = Date.now() - started;
    const setupHttp = emptyHttpLog();

    // The administrator (account 1) was created by one of the nodes, which printed its key.
    const adminKey = nodes
      .map((node) => /admin#1, API key (\S+)/.exec(node.app.output())?.[1])
      .find((key) => key !== undefined);
    expect(adminKey, 'the administrator key one node printed').toBeDefined();

    // The spender: registered with a username only (pseudonymous), granted its kudos by the administrator,
    // its concurrency raised so that what stops it is its kudos, not its number of jobs.
    // `/register` lives at the site's root, beside `/api`.
    const registration = await fetch(`${nodes[0]!.app.origin}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Client-Agent': CI_CLIENT_AGENT },
      body: JSON.stringify({ username: 'one_account_spender' }),
    });
    const registered = (await registration.json()) as { id: number; api_key: string; username: string };
    expect(registration.status, JSON.stringify(registered)).toBe(201);
    const spender: TestUser = {
      id: Number(registered.id),
      apikey: registered.api_key,
      username: registered.username,
    };
    const granted = await callNode(setupHttp, nodes[1]!, 'PUT', `/users/${spender.id}`, {
      apikey: adminKey!,
      body: { kudos: GRANT_KUDOS, concurrency: 500 },
    });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    expect(granted.body.new_kudos).toBe(GRANT_KUDOS);
    const before = await callNode(setupHttp, nodes[2]!, 'GET', `/users/${spender.id}`);
    expect(before.body).toMatchObject({ kudos: GRANT_KUDOS, pseudonymous: true, concurrency: 500 });

    const recipients = await Promise.all(
      [0, 1, 2, 3].map((r) => createTestUser(setupHttp, nodes[r % 3]!, `one_recipient_${r}`, 0)),
    );
    const aliasOf = (user: TestUser) => `${user.username}#${user.id}`;
    const owners = await Promise.all(
      [0, 1, 2].map((w) => createTestUser(setupHttp, nodes[w]!, `one_owner_${w}`, 0)),
    );

    // What one call takes from the account when it is made (the activation tax and the upfront reservation
    // come from the dry-run estimate the node answers), to show the demand against the balance.
    const dryRun = async (body: object) =>
      (
        await callNode(setupHttp, nodes[0]!, 'POST', '/generate/async', {
          apikey: spender.apikey,
          body: { ...body, dry_run: true },
        })
      ).body.kudos as number;
    const upfrontEstimate = await dryRun(upfrontImageRequest('estimate'));
    const cheapEstimate = await dryRun(smallImageRequest('estimate', 1, ['stable_diffusion']));
    expect([typeof upfrontEstimate, typeof cheapEstimate]).toEqual(['number', 'number']);
    const TAX = 3;
    const kinds = Array.from({ length: CALLS }, (_, i) => kindOf(i));
    const transferAmount = (i: number) => 1 + (i % 2);
    const takenAtCallTime = kinds.reduce(
      (total, kind, i) =>
        total + (kind === 'upfront' ? TAX + upfrontEstimate : kind === 'cheap' ? TAX : transferAmount(i)),
      0,
    );

    // One worker per node, serving only from its node, so the accepted requests are charged as they settle
    // while the batch still runs.
    const workHttp = emptyHttpLog();
    const work = emptyWorkLog();
    const workers: SimWorker[] = owners.map((owner, w) => ({
      name: `one-worker-${w}`,
      owner,
      node: nodes[w]!,
      models: ['stable_diffusion'],
      genMs: [5, 20],
      holding: new Set<string>(),
      dead: false,
    }));
    const working = runWorkers(workers, work, workHttp);
    cleanups.push(() => working.stop());

    // The pollers: the balance over HTTP from every node, and from the database, every few milliseconds.
    const pollHttp = emptyHttpLog();
    const polls = {
      http: nodes.map(() => ({ samples: 0, duringBatch: 0, min: Number.POSITIVE_INFINITY })),
      db: {
        samples: 0,
        duringBatch: 0,
        min: Number.POSITIVE_INFINITY,
        minSpendable: Number.POSITIVE_INFINITY,
        maxReserved: 0,
      },
      errors: [] as string[],
    };
    let polling = true;
    let batchRunning = false;
    // Three at a time per node: a node busy with the batch answers each one late.
    const httpPollers = [...nodes, ...nodes, ...nodes].map(async (node) => {
      const n = node.index;
      while (polling) {
        try {
          const user = await callNode(pollHttp, node, 'GET', `/users/${spender.id}`);
          if (user.status === 200 && typeof user.body.kudos === 'number') {
            polls.http[n]!.samples++;
            if (batchRunning) polls.http[n]!.duringBatch++;
            polls.http[n]!.min = Math.min(polls.http[n]!.min, user.body.kudos);
          } else {
            polls.errors.push(`node ${n}: ${user.status} ${JSON.stringify(user.body)}`);
          }
        } catch (error) {
          polls.errors.push(`node ${n}: ${(error as Error).message}`);
        }
        await sleep(4);
      }
    });
    const dbPoller = (async () => {
      while (polling) {
        try {
          const account = (await store.getAccount(spender.id))!;
          polls.db.samples++;
          if (batchRunning) polls.db.duringBatch++;
          polls.db.min = Math.min(polls.db.min, account.balance);
          polls.db.minSpendable = Math.min(polls.db.minSpendable, account.balance - account.reserved);
          polls.db.maxReserved = Math.max(polls.db.maxReserved, account.reserved);
        } catch (error) {
          polls.errors.push(`database: ${(error as Error).message}`);
        }
        await sleep(3);
      }
    })();
    const stopPolling = async () => {
      polling = false;
      await bounded(Promise.all([...httpPollers, dbPoller]), 5_000, 'the pollers');
    };
    cleanups.push(stopPolling);

    // The batch: 1,000 calls at once, call i on node i % 3.
    const batchHttp = emptyHttpLog();
    const call = async (i: number): Promise<Outcome> => {
      const kind = kinds[i]!;
      const node = nodes[i % 3]!;
      const outcome: Outcome = { i, kind, node: node.index, ms: 0 };
      const t0 = performance.now();
      try {
        let answer: HttpResult;
        if (kind === 'transfer') {
          answer = await send(batchHttp, node, '/kudos/transfer', {
            apikey: spender.apikey,
            body: { username: aliasOf(recipients[i % recipients.length]!), amount: transferAmount(i) },
            headers: i % 2 ? { 'Idempotency-Key': `one-account-${i}` } : {},
          });
          if (answer.status === 200) outcome.transferred = answer.body.transferred;
        } else {
          answer = await send(batchHttp, node, '/generate/async', {
            apikey: spender.apikey,
            body:
              kind === 'upfront'
                ? upfrontImageRequest(`one-account #${i} upfront`)
                : smallImageRequest(`one-account #${i} cheap`, 1, ['stable_diffusion']),
          });
          if (answer.status === 202) outcome.requestId = answer.body.id;
        }
        outcome.status = answer.status;
        if (answer.status >= 400) outcome.rc = answer.body?.rc ?? String(answer.body);
      } catch (error) {
        outcome.error = (error as Error).message;
      }
      outcome.ms = performance.now() - t0;
      return outcome;
    };
    await sleep(100); // the pollers have a first sample of the untouched balance
    const batchStarted = Date.now();
    batchRunning = true;
    const batch = Promise.all(kinds.map((_, i) => call(i))).finally(() => {
      batchRunning = false;
    });
    let outcomes: Outcome[];
    try {
      outcomes = await bounded(batch, BATCH_DEADLINE_MS, `${CALLS} concurrent calls`);
    } catch (error) {
      const answered = batchHttp.answers.length + batchHttp.failures.length;
      const { rows } = await store.pool.query(
        `SELECT pid, state, wait_event_type, wait_event, left(query, 160) AS query FROM pg_stat_activity
         WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()`,
      );
      throw new Error(
        `${(error as Error).message}: ${answered} of ${CALLS} answered; busy backends ${JSON.stringify(rows)}`,
      );
    }
    const batchMs = Date.now() - batchStarted;

    // The workers deliver what was accepted; the pollers keep watching while the settlements charge it.
    const drainStarted = Date.now();
    let active = Number.NaN;
    while (Date.now() - drainStarted < DRAIN_DEADLINE_MS) {
      const { rows } = await store.pool.query<{ active: number }>(
        "SELECT count(*)::integer AS active FROM requests WHERE account_id = $1 AND state = 'active'",
        [spender.id],
      );
      active = rows[0]!.active;
      if (active === 0) break;
      await sleep(100);
    }
    const drainMs = Date.now() - drainStarted;
    await bounded(working.stop(), 10_000, 'the workers');
    await stopPolling();

    // Every call answered, never a 5xx; refusals are what an account running dry gets.
    const counts: Record<string, number> = {};
    for (const outcome of outcomes) {
      const key = `${outcome.kind} ${outcome.status ?? 'no answer'}${outcome.rc ? ` ${outcome.rc}` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    const latencies = outcomes.map((outcome) => outcome.ms).sort((a, b) => a - b);
    console.log(
      `one account: ${CALLS} calls in ${(batchMs / 1000).toFixed(2)} s (latency p50 ` +
        `${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ` +
        `${latencies.at(-1)!.toFixed(0)} ms); answers ${JSON.stringify(counts, Object.keys(counts).sort())}`,
    );
    expect(batchHttp.failures, 'calls without an answer').toEqual([]);
    expect(outcomes.filter((outcome) => outcome.error !== undefined)).toEqual([]);
    expect(batchHttp.answers.length).toBe(CALLS);
    const unexpected = outcomes.filter((outcome) => {
      if (outcome.kind === 'transfer' && outcome.status === 200) {
        return outcome.transferred !== transferAmount(outcome.i);
      }
      if (outcome.kind !== 'transfer' && outcome.status === 202) return typeof outcome.requestId !== 'string';
      return (
        outcome.status === undefined ||
        outcome.status < 400 ||
        outcome.status >= 500 ||
        !EXPECTED_REFUSALS[outcome.kind].includes(outcome.rc ?? '')
      );
    });
    expect(
      unexpected.map(
        (outcome) => `#${outcome.i} ${outcome.kind} on node ${outcome.node}: ${outcome.status} ${outcome.rc}`,
      ),
      'answers other than success or an expected refusal',
    ).toEqual([]);
    const count = (kind: Kind, test: (outcome: Outcome) => boolean) =>
      outcomes.filter((outcome) => outcome.kind === kind && test(outcome)).length;
    // The account ran dry: both kinds of kudos refusal happened, and both paths also succeeded.
    expect(
      count('upfront', (o) => o.status === 202),
      'upfront requests accepted (reserved)',
    ).toBeGreaterThan(0);
    expect(
      count('upfront', (o) => o.rc === 'KudosUpfront'),
      'upfront requests refused',
    ).toBeGreaterThan(0);
    expect(
      count('transfer', (o) => o.status === 200),
      'transfers made',
    ).toBeGreaterThan(0);
    expect(
      count('transfer', (o) => o.rc === 'KudosTransferNotEnough'),
      'transfers refused',
    ).toBeGreaterThan(0);
    expect(polls.db.maxReserved, 'kudos reserved up front, seen in the database').toBeGreaterThan(0);

    // The floor held, seen from every node and from the database, all along.
    const floorCenti = toCenti(FLOOR_KUDOS);
    const httpSamples = polls.http.map((poll) => `${poll.samples} (${poll.duringBatch} during the batch)`);
    const httpMin = Math.min(...polls.http.map((poll) => poll.min));
    console.log(
      `one account: floor ${FLOOR_KUDOS} kudos; lowest balance seen ${httpMin} kudos over HTTP ` +
        `(samples per node: ${httpSamples.join(', ')}), ${polls.db.min / 100} kudos in the database ` +
        `(${polls.db.samples} samples, ${polls.db.duringBatch} during the batch; lowest balance − reserved ${polls.db.minSpendable / 100}, most reserved ` +
        `${polls.db.maxReserved / 100}); demand at call time ≈ ${takenAtCallTime} kudos for ${GRANT_KUDOS} ` +
        `(upfront estimate ${upfrontEstimate}, small request estimate ${cheapEstimate}); drained in ` +
        `${(drainMs / 1000).toFixed(1)} s`,
    );
    expect(polls.errors, 'balance polls that failed').toEqual([]);
    expect(pollHttp.failures).toEqual([]);
    for (const poll of polls.http) {
      expect(poll.duringBatch, 'HTTP balance samples per node during the batch').toBeGreaterThan(0);
      expect(poll.samples, 'HTTP balance samples per node').toBeGreaterThan(10);
    }
    expect(polls.db.duringBatch, 'database balance samples during the batch').toBeGreaterThan(10);
    expect(httpMin, 'lowest balance over HTTP (kudos)').toBeGreaterThanOrEqual(FLOOR_KUDOS);
    expect(polls.db.min, 'lowest balance in the database (centikudos)').toBeGreaterThanOrEqual(floorCenti);

    // The workers delivered everything accepted, each job once.
    expect(active, `requests still active after ${DRAIN_DEADLINE_MS} ms`).toBe(0);
    expect(work.errors, 'pop or submit refused').toEqual([]);
    expect(work.poppedTwice, 'job ids handed out twice').toEqual([]);
    expect([...work.submitted.keys()].sort()).toEqual([...work.popped.keys()].sort());
    expect(workHttp.failures).toEqual([]);

    // The database: exactly the accepted requests, all done with their one job, nothing left reserved.
    const accepted = new Set(outcomes.flatMap((outcome) => (outcome.requestId ? [outcome.requestId] : [])));
    const { rows: requests } = await store.pool.query<{
      id: string;
      state: string;
      consumed: number;
      reserved: number;
      finished: number;
    }>('SELECT id, state, consumed, reserved, finished FROM requests WHERE account_id = $1', [spender.id]);
    expect(new Set(requests.map((request) => request.id))).toEqual(accepted);
    expect(
      requests.filter((r) => r.state !== 'done' || r.finished !== 1 || r.reserved !== 0),
      'requests not done, or still holding kudos',
    ).toEqual([]);
    expect(work.submitted.size).toBe(accepted.size);
    const account = (await store.getAccount(spender.id))!;
    expect({ reserved: account.reserved, escrow: account.escrow, activeJobs: account.activeJobs }).toEqual({
      reserved: 0,
      escrow: 0,
      activeJobs: 0,
    });

    // The ledger, to the centikudo.
    await expectConsistentLedger(store);
    const journal = (await store.readJournal()).filter((entry) => entry.accountId === spender.id);
    const byKind: Record<string, number> = {};
    for (const entry of journal) byKind[entry.kind] = (byKind[entry.kind] ?? 0) + entry.balanceDelta;
    expect(Object.keys(byKind).sort()).toEqual(
      ['activation', 'admin', 'floor', 'generation', 'transfer'].filter((kind) => byKind[kind] !== undefined),
    );
    const grant = toCenti(GRANT_KUDOS);
    const transferredAnswered = toCenti(
      outcomes.reduce((total, outcome) => total + (outcome.transferred ?? 0), 0),
    );
    const { rows: transferRows } = await store.pool.query<{ total: number; rows: number }>(
      'SELECT coalesce(sum(amount), 0)::bigint AS total, count(*)::integer AS rows FROM transfers WHERE from_id = $1',
      [spender.id],
    );
    const consumed = requests.reduce((total, request) => total + request.consumed, 0);
    const forgiven = byKind.floor ?? 0;
    // Where the floor forgave (for the report): taxes at acceptance, or charges as jobs settled, by kind.
    const { rows: jobRows } = await store.pool.query<{ id: string; request_id: string }>(
      'SELECT id, request_id FROM jobs',
    );
    const requestOfJob = new Map(jobRows.map((job) => [job.id, job.request_id]));
    const upfrontIds = new Set(
      outcomes.flatMap((outcome) =>
        outcome.kind === 'upfront' && outcome.requestId ? [outcome.requestId] : [],
      ),
    );
    const forgivenAt: Record<string, number> = {};
    for (const entry of journal.filter((e) => e.kind === 'floor')) {
      const settled = requestOfJob.get(entry.ref ?? '');
      const requestId = settled ?? entry.ref ?? '';
      const where = `${settled ? 'settlement' : 'acceptance'} of ${upfrontIds.has(requestId) ? 'upfront' : 'small'} requests`;
      forgivenAt[where] = (forgivenAt[where] ?? 0) + entry.balanceDelta;
    }
    for (const where of Object.keys(forgivenAt)) forgivenAt[where] = forgivenAt[where]! / 100;
    expect(byKind.admin, 'granted').toBe(grant);
    expect(
      { answered: transferredAnswered, table: transferRows[0]!.total, journal: -(byKind.transfer ?? 0) },
      'transferred: answered 200 = transfers table = journal',
    ).toEqual({ answered: transferredAnswered, table: transferredAnswered, journal: transferredAnswered });
    expect(transferRows[0]!.rows).toBe(count('transfer', (o) => o.status === 200));
    expect(
      -((byKind.activation ?? 0) + (byKind.generation ?? 0)),
      'consumed by the requests = taxes and charges journalled',
    ).toBe(consumed);
    expect(forgiven, 'forgiven by the floor').toBeGreaterThanOrEqual(0);
    expect(account.balance, 'balance = grant − transfers − (consumed − forgiven)').toBe(
      grant - transferredAnswered - (consumed - forgiven),
    );
    expect(account.balance).toBeGreaterThanOrEqual(floorCenti);
    // Each recipient holds exactly what it was sent.
    for (const [r, recipient] of recipients.entries()) {
      const sent = outcomes
        .filter((outcome) => outcome.transferred !== undefined && outcome.i % recipients.length === r)
        .reduce((total, outcome) => total + toCenti(outcome.transferred!), 0);
      expect((await store.getAccount(recipient.id))!.balance, recipient.username).toBe(sent);
    }
    // Every node shows the same balance as the database.
    for (const node of nodes) {
      const user = await callNode(setupHttp, node, 'GET', `/users/${spender.id}`);
      expect(toCenti(user.body.kudos), `balance on node ${node.index}`).toBe(account.balance);
    }

    // No errors anywhere, and nothing PostgreSQL had to break as a deadlock (the driver would have retried
    // it silently). The nodes are stopped first, so that every backend has reported its statistics.
    const logs = [setupHttp, batchHttp, pollHttp, workHttp];
    for (const node of nodes) expect(serverErrors(logs, node), `node ${node.index} errors`).toEqual([]);
    await cluster.stop();
    await sleep(200);
    const { rows: stats } = await store.pool.query<{ deadlocks: number }>(
      'SELECT deadlocks::integer AS deadlocks FROM pg_stat_database WHERE datname = current_database()',
    );
    expect(stats[0]!.deadlocks, 'deadlocks PostgreSQL detected').toBe(0);

    console.log(
      `one account: 3 nodes up in ${(startedIn / 1000).toFixed(1)} s; ${accepted.size} requests accepted ` +
        `(${count('upfront', (o) => o.status === 202)} with upfront kudos), ${transferRows[0]!.rows} transfers ` +
        `(${transferredAnswered / 100} kudos); balance ${grant / 100} → ${account.balance / 100} kudos: consumed ` +
        `${consumed / 100}, forgiven by the floor ${forgiven / 100} (${JSON.stringify(forgivenAt)}); ` +
        `${work.submitted.size} jobs delivered; ` +
        `test ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 90_000);
});
