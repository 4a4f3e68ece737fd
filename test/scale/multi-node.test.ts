/**
 * Scale-out (issue 6): three community-horde processes on one PostgreSQL database and one Redis, each with
 * its own data directory, driven over HTTP by simulated workers (two per node, each popping from and
 * submitting to its own node only) and requesters spread across the nodes.
 *
 * 1. Under load: no job goes to two workers, every request is done once with its `n` generations, each job
 *    is submitted once, SSE streams opened on a third node see the generations a worker on another node
 *    delivered, and the kudos balance to the centikudo against the journal.
 * 2. The sweeps leader is SIGKILLed while its workers hold leased jobs: another node takes over the sweeps
 *    within seconds, the leased jobs come back after their TTL and are served by the surviving workers,
 *    every accepted request completes, the surviving nodes never fail, and the ledger stays consistent.
 */
import { createPostgresStore, type PostgresStore } from '@hordekit/core/postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../support/app-process.js';
import { type Cluster, type ClusterNode, startCluster } from '../support/cluster.js';
import {
  createTestUser,
  emptyHttpLog,
  emptyWorkLog,
  type HttpLog,
  runWorkers,
  type SimWorker,
  sleep,
  type TestUser,
} from '../support/cluster-load.js';
import { freshDatabase, redisUrl } from '../support/services.js';
import { allRequests, expectKudosExact, requestProblems, statusProblems } from './checks.js';
import { emptyRequestLog, runRequesters, waitUntilDone } from './requesters.js';

/** A model only node i's workers declare, besides `stable_diffusion`: requests naming it go to that node. */
const NODE_MODELS = ['Deliberate', 'Dreamshaper', 'Epic Diffusion'] as const;
const GRANTED_KUDOS = 2_000;
const TTL_SECONDS = 4;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Last registered, first undone: loads stop before their nodes, nodes before their database.
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: unknown) => console.error('cleanup failed:', error));
  }
}, 30_000);

beforeAll(() => buildApp(), 180_000);

interface Setup {
  cluster: Cluster;
  nodes: ClusterNode[];
  store: PostgresStore;
  http: HttpLog;
  requesters: TestUser[];
  owners: TestUser[];
}

async function setUp(label: string, config: Record<string, Record<string, number>>): Promise<Setup> {
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  const cluster = await startCluster({ size: 3, databaseUrl: database.url, redisUrl: redisUrl(), config });
  cleanups.push(() => cluster.stop());
  const store = await createPostgresStore({ connectionString: database.url, poolSize: 2 });
  cleanups.push(() => store.close());
  const { nodes } = cluster;
  const http = emptyHttpLog();
  // Accounts are created on different nodes: the database is what they share.
  const requesters = await Promise.all(
    [0, 1, 2, 3, 4, 5].map((r) => createTestUser(http, nodes[r % 3]!, `${label}_req_${r}`, GRANTED_KUDOS)),
  );
  const owners = await Promise.all(
    [0, 1, 2, 3, 4, 5].map((w) => createTestUser(http, nodes[(w + 1) % 3]!, `${label}_owner_${w}`, 0)),
  );
  return { cluster, nodes, store, http, requesters, owners };
}

/** Two workers per node, worker `w` on node `w % 3`, each with an owner of its own. */
function makeWorkers(
  setup: Setup,
  label: string,
  genMs: (node: ClusterNode) => [number, number],
): SimWorker[] {
  return setup.owners.map((owner, w) => {
    const node = setup.nodes[w % 3]!;
    return {
      name: `${label}-worker-${w}`,
      owner,
      node,
      models: ['stable_diffusion', NODE_MODELS[node.index]!],
      genMs: genMs(node),
      holding: new Set<string>(),
      dead: false,
    };
  });
}

function serverErrors(http: HttpLog, node: ClusterNode): string[] {
  const answers = http.answers.filter((answer) => answer.node === node.index && answer.status >= 500);
  const logged = node.app
    .output()
    .split('\n')
    .filter((line) => line.includes('"level":50') || line.includes('"level":60'));
  return [...answers.map((answer) => `${answer.method} ${answer.path} → ${answer.status}`), ...logged];
}

describe('a horde of three nodes on one PostgreSQL and one Redis', () => {
  it('multi-node: every job to one worker, every request done once, streams across nodes, kudos conserved', async () => {
    const started = Date.now();
    const setup = await setUp('mn', {
      queue: { sweepIntervalMs: 1_000 },
      // Long enough that no lease runs out here: a job is popped and submitted within a second.
      jobs: { minTtlSeconds: 20, imageTtlBaseSeconds: 1, imageTtlPerStep: 0 },
    });
    const { nodes, http, store } = setup;
    const startedIn = Date.now() - started;
    const workers = makeWorkers(setup, 'mn', () => [10, 60]);
    const ownerOf = new Map(workers.map((worker) => [worker.name, worker.owner]));
    const work = emptyWorkLog();
    const log = emptyRequestLog();

    const working = runWorkers(workers, work, http, { gate: (prompt) => log.gates.get(prompt) });
    cleanups.push(() => working.stop());
    const loadStarted = Date.now();
    // 6 requesters × 10 requests; one in three is streamed: accepted on node a, streamed from node a+1,
    // and naming node a+2's own model, so only node a+2's workers can serve it.
    const requesting = runRequesters({
      requesters: setup.requesters,
      http,
      log,
      label: 'mn',
      pauseMs: [0, 80],
      plan: (r, i) => {
        if (i >= 10) return undefined;
        const a = (r + i) % 3;
        const n = 1 + ((r + 2 * i) % 3);
        if (i % 3 === 0) {
          return { node: nodes[a]!, n, models: [NODE_MODELS[(a + 2) % 3]!], streamOn: nodes[(a + 1) % 3]! };
        }
        return { node: nodes[a]!, n, models: i % 2 ? ['stable_diffusion'] : [] };
      },
    });
    await requesting.finished;
    const unfinished = await waitUntilDone(log, nodes, http, 30_000);
    await requesting.streams();
    await working.stop();
    const loadMs = Date.now() - loadStarted;

    expect(log.refusals, 'requests refused').toEqual([]);
    expect(log.unanswered, 'requests without an answer').toBe(0);
    expect(log.accepted.size).toBe(60);
    expect(unfinished, 'requests not done').toEqual([]);
    expect(work.errors, 'pop or submit refused').toEqual([]);
    expect(work.poppedTwice, 'job ids handed out twice').toEqual([]);
    // Each popped job was submitted once, and answered with a reward: the sets are the same.
    const jobsAsked = [...log.accepted.values()].reduce((total, accepted) => total + accepted.n, 0);
    expect(work.popped.size).toBe(jobsAsked);
    expect([...work.submitted.keys()].sort()).toEqual([...work.popped.keys()].sort());
    // The load was spread: every node accepted requests and every node's workers delivered.
    for (const node of nodes) {
      expect([...log.accepted.values()].filter((a) => a.node === node.index).length).toBeGreaterThan(0);
      const names = new Set(workers.filter((w) => w.node === node).map((w) => w.name));
      expect([...work.submitted.values()].filter((s) => names.has(s.worker)).length).toBeGreaterThan(0);
    }

    // Streams: opened on a node that neither accepted the request nor served it, they saw it all.
    const streamed = [...log.accepted.values()].filter((accepted) => accepted.stream);
    expect(streamed.length).toBe(24);
    const streamProblems: string[] = [];
    for (const accepted of streamed) {
      const stream = accepted.stream!;
      const types = stream.events.map((event) => event.event);
      const generations = stream.events
        .filter((event) => event.event === 'generation')
        .map((event) => JSON.parse(event.data) as { jobId: string; workerName: string });
      const done = (await store.listRequestJobs(accepted.id)).filter((job) => job.state === 'done');
      const servers = new Set(
        generations.map((g) => workers.find((w) => w.name === g.workerName)?.node.index),
      );
      const first = stream.events[0] ? JSON.parse(stream.events[0].data) : undefined;
      const ok =
        stream.status === 200 &&
        !stream.error &&
        types[0] === 'state' &&
        first?.finished === 0 &&
        types.filter((type) => type === 'done').length === 1 &&
        types.at(-1) === 'done' &&
        stream.closedAfterFinal &&
        generations.length === accepted.n &&
        JSON.stringify(generations.map((g) => g.jobId).sort()) ===
          JSON.stringify(done.map((job) => job.id).sort()) &&
        [...servers].every(
          (index) => index !== stream.node && index !== accepted.node && index !== undefined,
        );
      if (!ok) {
        streamProblems.push(
          `${accepted.id} accepted by ${accepted.node}, streamed on ${stream.node}, n=${accepted.n}: ` +
            `${stream.status} ${stream.error ?? ''} ${types.join(',')} served by ${[...servers].join(',')}`,
        );
      }
    }
    expect(streamProblems, 'streams that missed events').toEqual([]);

    // The database: every accepted request done with exactly n jobs, all delivered, none re-leased.
    expect(await requestProblems(store, log, work, true), 'requests').toEqual([]);
    const states = [...(await allRequests(store)).values()].map((request) => request.state);
    expect(states.length).toBe(60);
    expect(new Set(states)).toEqual(new Set(['done']));
    // Any node serves any request's status and images (PostgreSQL blob store).
    expect(await statusProblems(store, log, nodes, http), 'status and images').toEqual([]);

    // Kudos, to the centikudo.
    const kudos = await expectKudosExact(store, {
      requesters: setup.requesters,
      owners: setup.owners,
      ownerOf,
      grantedKudos: GRANTED_KUDOS,
      work,
      nodes,
      http,
      everyOwnerEarned: true,
    });

    expect(http.failures, 'calls without an answer').toEqual([]);
    for (const node of nodes) expect(serverErrors(http, node), `node ${node.index} errors`).toEqual([]);
    // One node ran the sweeps from the start to the end, and only that one.
    expect(nodes.map((node) => node.leaderSince.length).sort(), 'times each node became leader').toEqual([
      0, 0, 1,
    ]);
    console.log(
      `multi-node: 3 nodes up in ${(startedIn / 1000).toFixed(1)} s; ${log.accepted.size} requests, ` +
        `${work.submitted.size} jobs (${streamed.length} streamed) in ${(loadMs / 1000).toFixed(1)} s; ` +
        `${http.answers.length} HTTP answers; ledger ${JSON.stringify(kudos.totals)}; ` +
        `test ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 60_000);

  it('SIGKILL one node mid-load: the sweeps move, its leased jobs come back and are served, nothing accepted is lost', async () => {
    const started = Date.now();
    const setup = await setUp('kill', {
      // A request with n = 3 whose three jobs all die with the node must not be faulted for it.
      queue: { sweepIntervalMs: 1_000, faultAfterFailures: 10 },
      jobs: { minTtlSeconds: TTL_SECONDS, imageTtlBaseSeconds: 1, imageTtlPerStep: 0 },
    });
    const { nodes, http, store, cluster } = setup;
    // The first node to log that it runs the sweeps is the one to kill.
    const victim = (await cluster.waitForLeader({ since: 0, timeoutMs: 5_000 })).node;
    const survivors = nodes.filter((node) => node !== victim);
    // The leader's workers are slow: they hold jobs most of the time, and die with their node.
    const workers = makeWorkers(setup, 'kill', (node) => (node === victim ? [300, 600] : [10, 60]));
    const ownerOf = new Map(workers.map((worker) => [worker.name, worker.owner]));
    const dyingWorkers = workers.filter((worker) => worker.node === victim);
    const work = emptyWorkLog();
    const log = emptyRequestLog();

    const working = runWorkers(workers, work, http);
    cleanups.push(() => working.stop());
    let accepting = true;
    const requesting = runRequesters({
      requesters: setup.requesters.slice(0, 4),
      http,
      log,
      label: 'kill',
      pauseMs: [100, 250],
      plan: (r, i) => {
        if (!accepting) return undefined;
        const live = nodes.filter((node) => !node.dead);
        const node = live[(r + i) % live.length]!;
        return {
          node,
          n: 1 + ((r + 2 * i) % 3),
          models: i % 2 ? ['stable_diffusion'] : [],
          // Every request is watched from a node that survives, other than the one that accepted it.
          streamOn: survivors.find((survivor) => survivor !== node),
        };
      },
    });
    cleanups.push(async () => {
      accepting = false;
      await requesting.finished;
    });

    await sleep(2_500);
    // Kill it at a moment when its workers hold jobs; they drop them in the same tick.
    const deadline = Date.now() + 10_000;
    while (!dyingWorkers.some((worker) => worker.holding.size > 0) && Date.now() < deadline) await sleep(2);
    const heldAtKill = dyingWorkers.flatMap((worker) => [...worker.holding]);
    const killAt = Date.now();
    for (const worker of dyingWorkers) worker.dead = true;
    cluster.kill(victim);
    expect(heldAtKill.length, "jobs held by the dead node's workers").toBeGreaterThan(0);

    const takeover = await cluster.waitForLeader({ except: victim, since: killAt, timeoutMs: 10_000 });
    const takeoverSeconds = (takeover.at - killAt) / 1000;
    await sleep(3_000);
    accepting = false;
    await requesting.finished;
    const acceptedAfterKill = [...log.accepted.values()].filter((accepted) => accepted.at > killAt).length;
    const unfinished = await waitUntilDone(log, nodes, http, 30_000);
    await working.stop();

    expect(takeoverSeconds, 'seconds until another node runs the sweeps').toBeLessThan(5);
    expect(unfinished, 'accepted requests not done').toEqual([]);
    expect(log.refusals, 'requests refused by a live node').toEqual([]);
    expect(acceptedAfterKill, 'requests accepted after the kill').toBeGreaterThan(0);
    expect(work.errors, 'pop or submit refused by a live node').toEqual([]);
    expect(work.poppedTwice, 'job ids handed out twice').toEqual([]);

    // The jobs the dead workers held (or had popped and not had acknowledged): back after their TTL, then served.
    const dying = new Set(dyingWorkers.map((worker) => worker.name));
    const dropped = [...work.popped]
      .filter(([id, pop]) => dying.has(pop.worker) && !work.submitted.has(id))
      .map(([id]) => id);
    const returned: string[] = [];
    const returnProblems: string[] = [];
    let lastReturnMs = 0;
    const abortedOf = new Map<string, number[]>();
    for (const id of dropped) {
      const job = (await store.getJob(id))!;
      if (job.state === 'done' && work.submitUnanswered.has(id)) continue;
      const leaseMs = job.leaseExpiresAt - job.createdAt;
      const backAt = (job.completedAt ?? Number.NaN) - job.createdAt;
      if (job.state !== 'aborted' || leaseMs !== TTL_SECONDS * 1000 || !(backAt >= leaseMs)) {
        returnProblems.push(`${id}: ${job.state}, lease ${leaseMs} ms, back after ${backAt} ms`);
        continue;
      }
      lastReturnMs = Math.max(lastReturnMs, job.completedAt! - killAt);
      returned.push(id);
      abortedOf.set(job.requestId, [...(abortedOf.get(job.requestId) ?? []), job.completedAt!]);
    }
    // Each request that lost jobs got them done again by surviving workers, popped after the jobs came back.
    for (const [requestId, abortedAt] of abortedOf) {
      const request = (await store.getRequest(requestId))!;
      const done = (await store.listRequestJobs(requestId)).filter((job) => job.state === 'done');
      const redone = done.filter((job) => {
        const pop = work.popped.get(job.id);
        return (
          pop && !dying.has(pop.worker) && pop.at >= Math.min(...abortedAt) && work.submitted.has(job.id)
        );
      });
      if (request.state !== 'done' || done.length !== request.jobs || redone.length < abortedAt.length) {
        returnProblems.push(
          `request ${requestId}: ${request.state}, ${done.length}/${request.jobs} done, ` +
            `${abortedAt.length} returned, ${redone.length} redone by survivors`,
        );
      }
    }
    expect(returnProblems, 'dropped jobs').toEqual([]);
    for (const id of heldAtKill) expect(returned, 'held at the kill and returned').toContain(id);

    // The streams, all on surviving nodes, went on through the kill: each ended with one `done`, and a
    // request whose jobs came back saw a `restarted` event for each (published by the new leader's sweep).
    await requesting.streams();
    const streamProblems: string[] = [];
    const returnedSet = new Set(returned);
    for (const accepted of log.accepted.values()) {
      const stream = accepted.stream!;
      const types = stream.events.map((event) => event.event);
      const restarted = stream.events
        .filter((event) => event.event === 'restarted')
        .map((event) => JSON.parse(event.data) as { jobId: string; reason: string });
      const jobs = await store.listRequestJobs(accepted.id);
      const expected = jobs.filter((job) => returnedSet.has(job.id)).map((job) => `${job.id} aborted`);
      const ok =
        stream.status === 200 &&
        !stream.error &&
        types.filter((type) => type === 'done').length === 1 &&
        types.at(-1) === 'done' &&
        stream.closedAfterFinal &&
        JSON.stringify(restarted.map((event) => `${event.jobId} ${event.reason}`).sort()) ===
          JSON.stringify(expected.sort());
      if (!ok) {
        streamProblems.push(
          `${accepted.id} accepted by ${accepted.node}, streamed on ${stream.node}: ${stream.status} ` +
            `${stream.error ?? ''} ${types.join(',')}; restarted ${JSON.stringify(restarted)}, expected ${expected}`,
        );
      }
    }
    expect(streamProblems, 'streams').toEqual([]);
    const restartedStreams = [...log.accepted.values()].filter((accepted) =>
      accepted.stream!.events.some((event) => event.event === 'restarted'),
    ).length;
    expect(restartedStreams, 'streams that saw a job come back').toBeGreaterThan(0);

    // Every accepted request, on any node, before or after the kill: done, with all its generations.
    expect(await requestProblems(store, log, work, false), 'requests').toEqual([]);
    // Even those whose 202 the kill cut off: nothing in the database is left behind.
    const notDone = [...(await allRequests(store))].filter(([, request]) => request.state !== 'done');
    expect(
      notDone.map(([id, request]) => `${id}: ${request.state}`),
      'requests in the database',
    ).toEqual([]);
    expect(await statusProblems(store, log, survivors, http), 'status and images').toEqual([]);

    await expectKudosExact(store, {
      requesters: setup.requesters,
      owners: setup.owners,
      ownerOf,
      grantedKudos: GRANTED_KUDOS,
      work,
      nodes,
      http,
      everyOwnerEarned: false,
    });

    // The surviving nodes answered every call, never with a 5xx, and logged no error.
    expect(
      http.failures.filter((failure) => failure.node !== victim.index),
      'unanswered calls to live nodes',
    ).toEqual([]);
    for (const node of survivors) expect(serverErrors(http, node), `node ${node.index} errors`).toEqual([]);
    console.log(
      `SIGKILL: killed node ${victim.index} (the leader) holding ${heldAtKill.length} jobs; node ` +
        `${takeover.node.index} ran the sweeps ${takeoverSeconds.toFixed(2)} s later; ${returned.length} dropped ` +
        `jobs back in the queue by ${(lastReturnMs / 1000).toFixed(1)} s after the kill (TTL ${TTL_SECONDS} s); ` +
        `${log.accepted.size} requests accepted (${acceptedAfterKill} after the kill, ${log.unanswered} cut off), ` +
        `all streamed from surviving nodes (${restartedStreams} saw \`restarted\`), ` +
        `${work.submitted.size} jobs delivered; test ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 60_000);
});
