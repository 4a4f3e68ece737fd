/**
 * What the multi-node tests check after the load, on the shared database (a `PostgresStore` of the test's
 * own) and over HTTP: every request done with its generations, each job settled once, and the kudos of
 * every requester and worker owner accounted for to the centikudo by the journal.
 */

import type { JobRecord } from '@hordekit/core';
import { toCenti } from '@hordekit/core';
import type { PostgresStore } from '@hordekit/core/postgres';
import { expect } from 'vitest';
import type { ClusterNode } from '../support/cluster.js';
import { callNode, type HttpLog, type TestUser, type WorkLog } from '../support/cluster-load.js';
import { expectConsistentLedger } from '../support/ledger-check.js';
import { taggedWebp } from '../support/restart-load.js';
import type { RequestLog } from './requesters.js';

/** Every request in the database with its jobs. */
export async function allRequests(
  store: PostgresStore,
): Promise<Map<string, { state: string; accountId: number; consumed: number; jobs: JobRecord[] }>> {
  const { rows } = await store.pool.query<{ id: string }>('SELECT id FROM requests ORDER BY id');
  const out = new Map<string, { state: string; accountId: number; consumed: number; jobs: JobRecord[] }>();
  for (const { id } of rows) {
    const request = (await store.getRequest(id))!;
    out.set(id, {
      state: request.state,
      accountId: request.accountId,
      consumed: request.consumed,
      jobs: await store.listRequestJobs(id),
    });
  }
  return out;
}

/**
 * Problems with the accepted requests: not done, not exactly `n` delivered jobs, a delivered job whose
 * submit was never sent, and (with `strict`) any job that did not end `done` (a lease that ran out).
 */
export async function requestProblems(
  store: PostgresStore,
  log: RequestLog,
  work: WorkLog,
  strict: boolean,
): Promise<string[]> {
  const problems: string[] = [];
  for (const accepted of log.accepted.values()) {
    const request = await store.getRequest(accepted.id);
    if (!request) {
      problems.push(`${accepted.id} (accepted by node ${accepted.node}) is not in the database`);
      continue;
    }
    const jobs = await store.listRequestJobs(accepted.id);
    const done = jobs.filter((job) => job.state === 'done');
    const counters = { state: request.state, finished: request.finished, waiting: request.waiting };
    if (request.state !== 'done' || request.finished !== accepted.n || done.length !== accepted.n) {
      problems.push(`${accepted.id} n=${accepted.n}: ${JSON.stringify(counters)}, ${done.length} done jobs`);
    }
    for (const job of done) {
      if (!work.submitted.has(job.id) && !work.submitUnanswered.has(job.id)) {
        problems.push(`${accepted.id}: job ${job.id} is done but no worker submitted it`);
      }
    }
    if (strict && jobs.length !== done.length) {
      problems.push(`${accepted.id}: jobs ${JSON.stringify(jobs.map((job) => [job.id, job.state]))}`);
    }
  }
  return problems;
}

/**
 * Reads each accepted request's status from a node other than the one that accepted it: `n` generations,
 * exactly the jobs the database has done, each image downloading (from that node) as its worker sent it.
 */
export async function statusProblems(
  store: PostgresStore,
  log: RequestLog,
  nodes: ClusterNode[],
  http: HttpLog,
): Promise<string[]> {
  const problems: string[] = [];
  for (const accepted of log.accepted.values()) {
    const node = nodes.find((candidate) => !candidate.dead && candidate.index !== accepted.node) ?? nodes[0]!;
    const status = await callNode(http, node, 'GET', `/generate/status/${accepted.id}`);
    const generations: { id: string; img: string }[] = status.body.generations ?? [];
    const done = (await store.listRequestJobs(accepted.id)).filter((job) => job.state === 'done');
    const expected = done.map((job) => job.id).sort();
    const got = generations.map((generation) => generation.id).sort();
    if (status.status !== 200 || !status.body.done || JSON.stringify(got) !== JSON.stringify(expected)) {
      problems.push(
        `status of ${accepted.id} on node ${node.index}: ${status.status} ${JSON.stringify(got)}`,
      );
      continue;
    }
    for (const generation of generations) {
      const image = await fetch(generation.img);
      const bytes = Buffer.from(await image.arrayBuffer());
      if (image.status !== 200 || !bytes.equals(taggedWebp(generation.id))) {
        problems.push(
          `image ${generation.id} from node ${node.index}: ${image.status}, ${bytes.length} bytes`,
        );
      }
    }
  }
  return problems;
}

export interface KudosReport {
  /** Owner → [Σ rewards answered to its workers' submits, Σ reward rows in the journal, balance + escrow]. */
  owners: Record<string, [number, number, number]>;
  /** Requester → [kudos spent, Σ consumed by its requests, − Σ its activation/generation/floor rows]. */
  requesters: Record<string, [number, number, number]>;
  totals: { minted: number; burnt: number; balances: number; escrow: number };
  /** minted − Σ test-user grants − Σ rewards − Σ floor forgiveness: 0 when nothing else minted. */
  unexplainedMint: number;
  problems: string[];
}

/**
 * The kudos of every test account against the journal, all in centikudos. A done job whose submit got no
 * answer (its node was killed) counts with the reward the database recorded for it.
 */
export async function kudosReport(
  store: PostgresStore,
  options: {
    requesters: TestUser[];
    owners: TestUser[];
    /** Worker name → its owner. */
    ownerOf: Map<string, TestUser>;
    grantedKudos: number;
    work: WorkLog;
    nodes: ClusterNode[];
    http: HttpLog;
  },
): Promise<KudosReport> {
  const { work } = options;
  const journal = await store.readJournal();
  const requests = await allRequests(store);
  const problems: string[] = [];
  const answered = new Map<number, number>();
  for (const submit of work.submitted.values()) {
    const owner = options.ownerOf.get(submit.worker)!;
    answered.set(owner.id, (answered.get(owner.id) ?? 0) + toCenti(submit.reward));
  }
  for (const request of requests.values()) {
    for (const job of request.jobs) {
      const submit = work.submitted.get(job.id);
      if (job.state === 'done' && !submit) {
        if (!work.submitUnanswered.has(job.id)) problems.push(`job ${job.id} done without a submit`);
        answered.set(job.workerOwnerId, (answered.get(job.workerOwnerId) ?? 0) + job.reward);
      }
      if (submit && job.state !== 'done')
        problems.push(`job ${job.id} answered a reward but is ${job.state}`);
      if (submit && job.reward !== toCenti(submit.reward)) {
        problems.push(`job ${job.id}: reward ${job.reward} recorded, ${submit.reward} answered`);
      }
    }
  }
  const sum = (accountId: number, kinds: string[], part: (e: (typeof journal)[number]) => number) =>
    journal
      .filter((entry) => entry.accountId === accountId && kinds.includes(entry.kind))
      .reduce((total, entry) => total + part(entry), 0);

  const owners: KudosReport['owners'] = {};
  for (const owner of options.owners) {
    const account = (await store.getAccount(owner.id))!;
    const journalled = sum(owner.id, ['reward'], (e) => e.balanceDelta + e.escrowDelta);
    owners[owner.username] = [answered.get(owner.id) ?? 0, journalled, account.balance + account.escrow];
  }
  const requesters: KudosReport['requesters'] = {};
  for (const requester of options.requesters) {
    const account = (await store.getAccount(requester.id))!;
    const consumed = [...requests.values()]
      .filter((request) => request.accountId === requester.id)
      .reduce((total, request) => total + request.consumed, 0);
    const charged = 0 - sum(requester.id, ['activation', 'generation', 'floor'], (e) => e.balanceDelta);
    requesters[requester.username] = [toCenti(options.grantedKudos) - account.balance, consumed, charged];
    if (account.reserved !== 0 || account.escrow !== 0) {
      problems.push(`${requester.username}: reserved ${account.reserved}, escrow ${account.escrow}`);
    }
    // What every node says about it over HTTP.
    for (const node of options.nodes.filter((candidate) => !candidate.dead)) {
      const user = await callNode(options.http, node, 'GET', `/users/${requester.id}`);
      if (toCenti(user.body.kudos) !== account.balance) {
        problems.push(
          `${requester.username} on node ${node.index}: ${user.body.kudos} kudos, ${account.balance} in the store`,
        );
      }
    }
  }
  const totals = await store.ledgerTotals();
  const granted = journal.filter((e) => e.kind === 'admin').reduce((t, e) => t + e.balanceDelta, 0);
  const rewards = journal
    .filter((e) => e.kind === 'reward')
    .reduce((t, e) => t + e.balanceDelta + e.escrowDelta, 0);
  const forgiven = journal.filter((e) => e.kind === 'floor').reduce((t, e) => t + e.balanceDelta, 0);
  if (granted !== toCenti(options.grantedKudos) * options.requesters.length) {
    problems.push(
      `admin grants ${granted}, expected ${toCenti(options.grantedKudos)} × ${options.requesters.length}`,
    );
  }
  return {
    owners,
    requesters,
    totals,
    unexplainedMint: totals.minted - granted - rewards - forgiven,
    problems,
  };
}

/**
 * Kudos to the centikudo: the ledger balances, each owner's answered rewards = its journal = balance +
 * escrow, each requester's spending = its requests' consumption = its journal, and nothing else minted.
 * `everyOwnerEarned`: also require that every owner's workers delivered something. Returns the report.
 */
export async function expectKudosExact(
  store: PostgresStore,
  options: Parameters<typeof kudosReport>[1] & { everyOwnerEarned: boolean },
): Promise<KudosReport> {
  await expectConsistentLedger(store);
  const kudos = await kudosReport(store, options);
  expect(kudos.problems).toEqual([]);
  for (const [name, [answered, journalled, held]] of Object.entries(kudos.owners)) {
    expect({ name, journalled, held }, 'owner: rewards answered = journal = balance + escrow').toEqual({
      name,
      journalled: answered,
      held: answered,
    });
    if (options.everyOwnerEarned) expect(answered, `${name} earned`).toBeGreaterThan(0);
  }
  for (const [name, [spent, consumed, charged]] of Object.entries(kudos.requesters)) {
    expect({ name, consumed, charged }, 'requester: spent = consumed = journal').toEqual({
      name,
      consumed: spent,
      charged: spent,
    });
  }
  expect(kudos.unexplainedMint, 'minted beyond grants, rewards and floor').toBe(0);
  return kudos;
}
