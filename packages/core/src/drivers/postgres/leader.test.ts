/** Leader election on a real PostgreSQL: one leader, handover on stop, takeover when a session dies. */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../../testing/services.js';
import { type LeaderElection, startLeaderElection } from './leader.js';

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Samples both nodes every 50 ms and remembers whether both ever claimed to lead at once. */
function watchForTwoLeaders(a: LeaderElection, b: LeaderElection) {
  let both = false;
  const timer = setInterval(() => {
    if (a.isLeader() && b.isLeader()) both = true;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return both;
    },
  };
}

const running: LeaderElection[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((election) => election.stop()));
});

function elect(lockKey: number, onChange?: (leader: boolean) => void): LeaderElection {
  const election = startLeaderElection({
    connectionString: testDatabaseUrl(),
    lockKey,
    retryMs: 200,
    onChange,
  });
  running.push(election);
  return election;
}

// Each test takes a lock key of its own, so tests sharing a database do not compete.
const freshKey = () => randomInt(1, 2 ** 47);

describe('leader election through an advisory lock', () => {
  it('elects exactly one of two nodes', async () => {
    const key = freshKey();
    const a = elect(key);
    const b = elect(key);
    await Promise.all([a.ready, b.ready]);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it('hands over when the leader stops', async () => {
    const key = freshKey();
    const changes: boolean[] = [];
    const a = elect(key, (leader) => changes.push(leader));
    await a.ready;
    expect(a.isLeader()).toBe(true);
    const b = elect(key);
    await b.ready;
    expect(b.isLeader()).toBe(false);

    const stoppedAt = Date.now();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect(changes).toEqual([true, false]);
    await waitFor(() => b.isLeader(), 2000);
    expect(Date.now() - stoppedAt).toBeLessThan(2000);
  });

  it('moves leadership when the leader session dies, and never has two leaders', async () => {
    const key = freshKey();
    const a = elect(key);
    await a.ready;
    const b = elect(key);
    await b.ready;
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    const watch = watchForTwoLeaders(a, b);

    const killedPid = a.pid();
    expect(killedPid).toBeTypeOf('number');
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [
        killedPid,
      ]);
      expect(rows[0]?.done).toBe(true);
    } finally {
      await admin.end();
    }

    // The lock is free once the session is gone: the follower normally takes it on its next try (the
    // killed node waits two rounds before competing again), but on a loaded machine the reconnected node
    // may win the race — either way exactly one leader, on a live session, and never two at once.
    await waitFor(() => b.isLeader() || (a.isLeader() && a.pid() !== killedPid), 3000);
    await waitFor(() => a.pid() !== undefined && a.pid() !== killedPid, 5000);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(watch.stop()).toBe(false);
  });

  it('stays a follower while the database is unreachable, and stops cleanly', async () => {
    const key = freshKey();
    const unreachable = startLeaderElection({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      lockKey: key,
      retryMs: 50,
    });
    await unreachable.ready;
    expect(unreachable.isLeader()).toBe(false);
    expect(unreachable.pid()).toBeUndefined();
    await unreachable.stop();
  });
});
