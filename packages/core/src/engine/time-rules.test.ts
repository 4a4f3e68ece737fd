/**
 * The rules that run on time (spec §3.2, §3.5, §2.4, §2.9), driven through the `Clock` port with
 * `FakeClock`: job TTLs and the stale-job sweep, restarts and faulting, request expiry, queue aging, the
 * online window, uptime rewards, automatic maintenance, and the `start()` timers.
 */
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../drivers/sqlite/index.js';
import type { RequestEvent } from '../events/types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createTestHorde, REGEN_AGENT, rcOf, type TestUser } from '../testing/test-horde.js';
import { AUTO_MAINTENANCE_MESSAGE } from './failures.js';
import { createHorde, type Horde } from './horde.js';

const REGEN = REGEN_AGENT;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
type Creds = TestUser['creds'];
type User = TestUser;
const setup = createTestHorde;

function imageWorker(name: string, extra: Record<string, unknown> = {}) {
  return { name, models: ['stable_diffusion'], bridge_agent: REGEN, ...extra };
}

const done = (id: string) => ({ id, generation: 'R2', seed: 1 });

/** Lets a timer's asynchronous pass (SQLite answers within microtasks) run to its end. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function kudosOf(horde: Horde, id: number) {
  const account = (await horde.getAccount(id))!;
  return { balance: account.balance / 100, escrow: account.escrow / 100 };
}

describe('job TTL and the stale-job sweep (spec §3.5)', () => {
  it('scales the TTL with size and steps, never below 150 s', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 1000);
    const bob = await user('bob');
    const cases: [Record<string, unknown>, number][] = [
      [{ width: 512, height: 512, steps: 30 }, 150], // 30 + 2·30·1 = 90 → 150
      [{ width: 1024, height: 1024, steps: 40 }, 350], // 30 + 2·40·4
      [{ width: 768, height: 768, steps: 20, sampler_name: 'k_heun' }, 210], // 30 + 2·40·2.25
      [{ width: 1024, height: 1024, steps: 10 }, 150], // 30 + 2·10·4 = 110 → 150
    ];
    for (const [params, ttl] of cases) {
      await horde.generateImage(alice.creds, { prompt: 'x', params });
      const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu', { max_pixels: 1024 * 1024 }));
      expect([params, pop.job!.ttl]).toEqual([params, ttl]);
    }
  });

  it('gives text jobs a fixed 150 s, whatever their length', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 1000);
    const bob = await user('bob');
    const worker = {
      name: 'bob-llm',
      models: ['koboldcpp/Mistral-7B-Instruct-v0.2'],
      max_length: 1024,
      max_context_length: 8192,
    };
    for (const params of [{ max_length: 16 }, { max_length: 1024, max_context_length: 8192 }]) {
      await horde.generateText(alice.creds, { prompt: 'x', params });
      expect((await horde.popText(bob.creds, worker)).job!.ttl).toBe(150);
    }
  });

  it('triples the TTL for an extra-slow worker and extends the expiry to 60 minutes', async () => {
    const { horde, clock, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const slow = imageWorker('bob-slow', { extra_slow_worker: true });
    await horde.generateImage(alice.creds, { prompt: 'x' });
    expect(await horde.popImage(bob.creds, slow)).toMatchObject({ job: null, skipped: { performance: 1 } });
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x', extra_slow_workers: true });
    const pop = await horde.popImage(bob.creds, slow);
    expect(pop.job?.requestId).toBe(accepted.id);
    expect(pop.job!.ttl).toBe(450);
    await horde.submitImage(bob.creds, { ...done(pop.job!.id), state: 'faulted' });
    clock.advance(60 * MINUTE - SECOND);
    await horde.sweep();
    expect((await horde.checkRequest(accepted.id!)).waiting).toBe(1);
    clock.advance(SECOND);
    await horde.sweep();
    expect(await rcOf(horde.checkRequest(accepted.id!))).toBe('RequestNotFound');
  });

  it('re-queues a job not submitted within its ttl; the late submit gets AbortedGen', async () => {
    const { horde, clock, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const carol = await user('carol');
    const worker = imageWorker('bob-gpu', { max_pixels: 1024 * 1024 });
    const accepted = await horde.generateImage(alice.creds, {
      prompt: 'x',
      params: { width: 1024, height: 1024, steps: 40 },
    });
    const pop = await horde.popImage(bob.creds, worker);
    expect(pop.job!.ttl).toBe(350);

    clock.advance(349 * SECOND);
    expect(await horde.sweep()).toEqual({ aborted: 0, expired: 0 });
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ processing: 1, waiting: 0 });
    clock.advance(1 * SECOND);
    expect(await horde.sweep()).toEqual({ aborted: 1, expired: 0 });
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({
      processing: 0,
      waiting: 1,
      restarted: 1,
      done: false,
      faulted: false,
    });
    expect(await rcOf(horde.submitImage(bob.creds, done(pop.job!.id)))).toBe('AbortedGen');

    const again = await horde.popImage(carol.creds, imageWorker('carol-gpu', { max_pixels: 1024 * 1024 }));
    expect(again.job?.requestId).toBe(accepted.id);
    expect(again.job!.id).not.toBe(pop.job!.id);
    expect((await horde.submitImage(carol.creds, done(again.job!.id))).reward).toBeGreaterThan(0);
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ finished: 1, restarted: 1, done: true });
    expect((await horde.getWorkerRecord(pop.worker.id)).stats.uncompletedJobs).toBe(1);
  });
});

describe('restarts (spec §3.5)', () => {
  it('faults the request on its third failure, which costs the requester nothing more', async () => {
    const { horde, clock, store, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const worker = imageWorker('bob-gpu');
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x' });
    const id = accepted.id!;

    // 1: the worker reports a fault.
    let pop = await horde.popImage(bob.creds, worker);
    expect(await horde.submitImage(bob.creds, { ...done(pop.job!.id), state: 'faulted' })).toEqual({
      reward: 0,
    });
    expect(await horde.checkRequest(id)).toMatchObject({ restarted: 1, waiting: 1, faulted: false });
    // 2: the lease runs out.
    pop = await horde.popImage(bob.creds, worker);
    clock.advance(pop.job!.ttl * SECOND);
    await horde.sweep();
    expect(await horde.checkRequest(id)).toMatchObject({ restarted: 2, waiting: 1, faulted: false });
    // 3: reported failed on the worker's behalf.
    pop = await horde.popImage(bob.creds, worker);
    await horde.failJob(pop.job!.id);
    expect(await horde.checkRequest(id)).toMatchObject({
      restarted: 3,
      waiting: 0,
      processing: 0,
      faulted: true,
      done: true,
      kudos: 3,
    });
    expect((await store.getRequest(id))!.state).toBe('faulted');
    expect((await horde.popImage(bob.creds, worker)).job).toBeNull();
    expect((await horde.getAccount(alice.id))!.activeJobs).toBe(0);
    expect((await kudosOf(horde, alice.id)).balance).toBe(97);
  });
});

describe('request expiry (spec §3.5)', () => {
  it('expires an unpopped request 20 minutes after creation; then it is RequestNotFound', async () => {
    const { horde, clock, store, user } = await setup();
    const alice = await user('alice', 100);
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x', params: { n: 2 } });
    clock.advance(20 * MINUTE - SECOND);
    expect(await horde.sweep()).toEqual({ aborted: 0, expired: 0 });
    expect((await horde.checkRequest(accepted.id!)).waiting).toBe(2);
    clock.advance(SECOND);
    expect(await horde.sweep()).toEqual({ aborted: 0, expired: 1 });
    expect(await rcOf(horde.checkRequest(accepted.id!))).toBe('RequestNotFound');
    expect(await rcOf(horde.requestStatus(accepted.id!))).toBe('RequestNotFound');
    expect(await rcOf(horde.cancelRequest(accepted.id!))).toBe('RequestNotFound');
    // A tombstone stays in the store.
    expect((await store.getRequest(accepted.id!))?.state).toBe('expired');
    expect((await horde.getAccount(alice.id))!.activeJobs).toBe(0);
  });

  it('extends the expiry by 20 minutes from each pop', async () => {
    const { horde, clock, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x', params: { n: 2 } });
    clock.advance(10 * MINUTE);
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    await horde.submitImage(bob.creds, { ...done(pop.job!.id), state: 'faulted' });
    clock.advance(10 * MINUTE + SECOND); // 20 min after creation, 10 after the pop
    expect(await horde.sweep()).toEqual({ aborted: 0, expired: 0 });
    expect((await horde.checkRequest(accepted.id!)).waiting).toBe(2);
    clock.advance(10 * MINUTE - SECOND); // 20 min after the pop
    expect(await horde.sweep()).toEqual({ aborted: 0, expired: 1 });
    expect(await rcOf(horde.checkRequest(accepted.id!))).toBe('RequestNotFound');
  });

  it('does not expire a request while one of its jobs is in flight', async () => {
    const { horde, clock, user } = await setup({ jobs: { minTtlSeconds: 3000 } });
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x', params: { n: 2 } });
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect(pop.job!.ids).toHaveLength(1);
    clock.advance(25 * MINUTE);
    expect(await horde.sweep()).toEqual({ aborted: 0, expired: 0 });
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ waiting: 1, processing: 1 });
    expect((await horde.submitImage(bob.creds, done(pop.job!.id))).reward).toBeGreaterThan(0);
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ waiting: 1, processing: 0, finished: 1 });
  });
});

describe('queue aging (spec §3.2)', () => {
  /** A request worth `kudos` less, queued `ticks` aging intervals earlier: which one is popped first? */
  async function race(kudos: number, ticks: number) {
    const { horde, clock, user } = await setup();
    const poor = await user('poor');
    const rich = await user('rich', kudos);
    const bob = await user('bob');
    const early = await horde.generateImage(poor.creds, { prompt: 'early' });
    clock.advance(ticks * 10 * SECOND);
    const late = await horde.generateImage(rich.creds, { prompt: 'late' });
    const first = (await horde.popImage(bob.creds, imageWorker('bob-gpu'))).job?.requestId;
    return first === early.id ? 'early' : first === late.id ? 'late' : 'none';
  }

  it('adds 50 per 10 s tick, so an older low-kudos request overtakes a newer high-kudos one', async () => {
    expect(await race(100, 0)).toBe('late');
    expect(await race(100, 1)).toBe('late'); // 0 + 50 < 100
    expect(await race(100, 2)).toBe('early'); // 0 + 100 = 100: a tie, FIFO
    expect(await race(100, 3)).toBe('early'); // 0 + 150 > 100
    expect(await race(149, 2)).toBe('late');
    expect(await race(149, 3)).toBe('early');
  });

  it('keeps FIFO among equal priorities', async () => {
    const { horde, user } = await setup();
    const a = await user('alice', 100);
    const b = await user('bobby', 100);
    const worker = await user('worker');
    const first = await horde.generateImage(a.creds, { prompt: 'x' });
    const second = await horde.generateImage(b.creds, { prompt: 'x' });
    expect((await horde.checkRequest(first.id!)).queue_position).toBe(1);
    expect((await horde.checkRequest(second.id!)).queue_position).toBe(2);
    expect((await horde.popImage(worker.creds, imageWorker('w-gpu'))).job?.requestId).toBe(first.id);
  });
});

describe('online window (spec §3.5)', () => {
  it('stops listing a worker, and counting it for is_possible, 300 s after its last pop', async () => {
    const { horde, clock, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    clock.advance(299 * SECOND);
    expect((await horde.listWorkers()).map((w) => w.name)).toEqual(['bob-gpu']);
    expect((await horde.listWorkers('image')).map((w) => w.name)).toEqual(['bob-gpu']);
    expect(await horde.listWorkers('text')).toEqual([]);
    const possible = await horde.generateImage(alice.creds, { prompt: 'x' });
    expect(possible.warnings).toEqual([]);
    expect((await horde.checkRequest(possible.id!)).is_possible).toBe(true);

    clock.advance(2 * SECOND);
    expect(await horde.listWorkers()).toEqual([]);
    expect((await horde.checkRequest(possible.id!)).is_possible).toBe(false);
    const impossible = await horde.generateImage(alice.creds, { prompt: 'x' });
    expect(impossible.warnings.map((w) => w.code)).toEqual(['NoAvailableWorker']);
    await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect((await horde.listWorkers())[0]).toMatchObject({ name: 'bob-gpu', online: true });
  });
});

describe('uptime rewards (spec §2.4)', () => {
  const REWARD = 50 + 2 * 1; // one model, no LoRA

  /** Pops every `every` ms from now until `until` ms from now (inclusive); returns the rc of each pop. */
  async function popEvery(horde: Horde, clock: FakeClock, creds: Creds, every: number, until: number) {
    const rcs: string[] = [];
    for (let t = 0; t <= until; t += every) {
      if (t > 0) clock.advance(every);
      rcs.push(await rcOf(horde.popImage(creds, imageWorker('bob-gpu'))));
    }
    return rcs;
  }

  it('credits an untrusted owner’s escrow after 600 s of pops every 60 s', async () => {
    const { horde, clock, user } = await setup();
    const bob = await user('bob');
    await popEvery(horde, clock, bob.creds, MINUTE, 9 * MINUTE);
    expect(await kudosOf(horde, bob.id)).toEqual({ balance: 0, escrow: 0 });
    await popEvery(horde, clock, bob.creds, MINUTE, MINUTE);
    expect(await kudosOf(horde, bob.id)).toEqual({ balance: 0, escrow: REWARD });
    const worker = (await horde.listWorkers())[0]!;
    expect(worker.kudos_details.uptime).toBe(REWARD);
  });

  it('credits a trusted owner’s balance', async () => {
    const { horde, clock, user } = await setup();
    const bob = await user('bob', 0, { trusted: true });
    await popEvery(horde, clock, bob.creds, MINUTE, 10 * MINUTE);
    expect(await kudosOf(horde, bob.id)).toEqual({ balance: REWARD, escrow: 0 });
  });

  it('restarts the uptime clock after a gap of more than 300 s', async () => {
    const { horde, clock, user } = await setup();
    const bob = await user('bob');
    await popEvery(horde, clock, bob.creds, MINUTE, 4 * MINUTE);
    clock.advance(301 * SECOND);
    // 14 minutes after the first pop, but only 9 since the gap.
    await popEvery(horde, clock, bob.creds, MINUTE, 9 * MINUTE);
    expect((await kudosOf(horde, bob.id)).escrow).toBe(0);
    await popEvery(horde, clock, bob.creds, MINUTE, MINUTE);
    expect((await kudosOf(horde, bob.id)).escrow).toBe(REWARD);
  });

  it('pays nothing while the worker is in maintenance', async () => {
    const { horde, clock, user } = await setup();
    const bob = await user('bob');
    const { worker } = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    await horde.modifyWorker(bob.creds, worker.id, { maintenance: true });
    const rcs = await popEvery(horde, clock, bob.creds, MINUTE, 20 * MINUTE);
    expect(new Set(rcs)).toEqual(new Set(['WorkerMaintenance']));
    expect(await kudosOf(horde, bob.id)).toEqual({ balance: 0, escrow: 0 });
  });

  it('does not count time in maintenance towards the next uptime reward', async () => {
    const { horde, clock, user } = await setup();
    const bob = await user('bob');
    const { worker } = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    await horde.modifyWorker(bob.creds, worker.id, { maintenance: true });
    await popEvery(horde, clock, bob.creds, MINUTE, 20 * MINUTE);
    await horde.modifyWorker(bob.creds, worker.id, { maintenance: false });
    clock.advance(MINUTE);
    await popEvery(horde, clock, bob.creds, MINUTE, 8 * MINUTE); // 9 minutes out of maintenance
    expect((await kudosOf(horde, bob.id)).escrow).toBe(0);
    await popEvery(horde, clock, bob.creds, MINUTE, 2 * MINUTE); // 11 minutes: one full period
    expect((await kudosOf(horde, bob.id)).escrow).toBe(REWARD);
  });
});

describe('automatic maintenance (spec §2.9, §3.5)', () => {
  const worker = imageWorker('bob-gpu', { max_pixels: 4 * 512 * 512, amount: 5 });

  /** Queues `requests` requests of `n` jobs, lets a worker pop them all in batches of 5 and drop them. */
  async function dropJobs(
    env: Awaited<ReturnType<typeof setup>>,
    requester: User,
    owner: User,
    requests: number,
    n: number,
  ) {
    const { horde, clock } = env;
    for (let i = 0; i < requests; i++)
      await horde.generateImage(requester.creds, { prompt: 'x', params: { n } });
    let dropped = 0;
    for (;;) {
      const pop = await horde.popImage(owner.creds, worker);
      if (!pop.job) break;
      dropped += pop.job.ids.length;
    }
    clock.advance(150 * SECOND);
    expect((await horde.sweep()).aborted).toBe(dropped);
    return dropped;
  }

  it('puts a worker that dropped more than 20 jobs within an hour in maintenance', async () => {
    const env = await setup();
    const { horde, user } = env;
    const alice = await user('alice', 1000);
    const bob = await user('bob');
    expect(await dropJobs(env, alice, bob, 4, 5)).toBe(20);
    const pop = await horde.popImage(bob.creds, worker);
    expect(pop.job).toBeNull();
    expect((await horde.getWorker(pop.worker.id)).maintenance_mode).toBe(false);

    expect(await dropJobs(env, alice, bob, 1, 1)).toBe(1);
    const record = await horde.getWorkerRecord(pop.worker.id);
    expect(record).toMatchObject({ maintenance: true, maintenanceMessage: AUTO_MAINTENANCE_MESSAGE });
    await horde.generateImage(alice.creds, { prompt: 'not for a worker in maintenance' });
    expect(await rcOf(horde.popImage(bob.creds, worker))).toBe('WorkerMaintenance');
    // Its owner's own requests are still served.
    const own = await horde.generateImage(bob.creds, { prompt: 'mine' });
    expect((await horde.popImage(bob.creds, worker)).job?.requestId).toBe(own.id);
  });

  it('forgets dropped jobs older than an hour', async () => {
    const env = await setup();
    const { horde, clock, user } = env;
    const alice = await user('alice', 1000);
    const bob = await user('bob');
    expect(await dropJobs(env, alice, bob, 4, 5)).toBe(20);
    clock.advance(60 * MINUTE);
    expect(await dropJobs(env, alice, bob, 1, 1)).toBe(1);
    const pop = await horde.popImage(bob.creds, worker);
    expect((await horde.getWorker(pop.worker.id)).maintenance_mode).toBe(false);
  });
});

describe('start(): background timers', () => {
  it('sweeps every 60 s and publishes changed queue positions every second; stop() ends both', async () => {
    const { horde, clock, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const first = await horde.generateImage(alice.creds, { prompt: 'first' });
    const second = await horde.generateImage(alice.creds, { prompt: 'second' });
    const events: RequestEvent[] = [];
    horde.onRequest(second.id!, (event) => events.push(event));
    horde.start();
    const tick = async (ms: number) => {
      for (let t = 0; t < ms; t += SECOND) {
        clock.advance(SECOND);
        await flush();
      }
    };
    await tick(SECOND);
    const positions = () => events.flatMap((e) => (e.type === 'position' ? [e.position] : []));
    expect(positions()).toEqual([2]);
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect(pop.job?.requestId).toBe(first.id);
    await tick(3 * SECOND);
    expect(positions()).toEqual([2, 1]);

    // The lease of 150 s runs out; the sweep at 180 s re-queues the job.
    await tick(170 * SECOND);
    expect((await horde.checkRequest(first.id!)).processing).toBe(1);
    await tick(10 * SECOND);
    expect(await horde.checkRequest(first.id!)).toMatchObject({ processing: 0, waiting: 1, restarted: 1 });
    expect(positions()).toEqual([2, 1, 2]);

    const again = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect(again.job?.requestId).toBe(first.id);
    await horde.stop();
    await tick(10 * MINUTE);
    expect((await horde.checkRequest(first.id!)).processing).toBe(1);
    expect(positions()).toEqual([2, 1, 2]);
  });

  it('runs the sweep when one advance passes its moment, even though position ticks came first', async () => {
    const { horde, clock, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x' });
    expect((await horde.popImage(bob.creds, imageWorker('bob-gpu'))).job?.ttl).toBe(150);
    clock.advance(100 * SECOND);
    horde.start();
    // The sweep is due 60 s after start(), 10 s after the lease ran out.
    clock.advance(61 * SECOND);
    await horde.stop();
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ processing: 0, waiting: 1, restarted: 1 });
  });
  it('leaves the sweep to the leader: a follower skips it until it is elected', async () => {
    let leader = false;
    const clock = new FakeClock();
    const horde = await createHorde({
      store: await createSqliteStore({ path: ':memory:' }),
      clock,
      random: () => 0.5,
      leadership: { isLeader: () => leader },
    });
    const alice = (await horde.registerAccount({ username: 'alice' })).apiKey;
    const bob = (await horde.registerAccount({ username: 'bob' })).apiKey;
    const accepted = await horde.generateImage({ apiKey: alice }, { prompt: 'x', params: { steps: 10 } });
    expect((await horde.popImage({ apiKey: bob }, imageWorker('bob-gpu'))).job?.ttl).toBe(150);
    horde.start();
    clock.advance(241 * SECOND); // four sweep ticks, the lease long over: a follower does nothing
    await flush();
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ processing: 1, restarted: 0 });
    leader = true;
    clock.advance(60 * SECOND);
    await horde.stop();
    expect(await horde.checkRequest(accepted.id!)).toMatchObject({ processing: 0, waiting: 1, restarted: 1 });
    await horde.close();
  });
});
