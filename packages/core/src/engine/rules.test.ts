/**
 * The engine's business rules, one small scenario each, checked through the `Horde` verbs and the `rc` of
 * every refusal: taxes and the accepted `kudos` field, dry runs, upfront kudos and downgrades, concurrency,
 * priority, worker-side filters and their `skipped` counts, credentials, escrow, censorship, cancellation,
 * every kudos-transfer rule (spec §2.2, §2.5, §2.11, §3.2, §3.3), and hostile input to every verb.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HordeError } from '../errors.js';
import type { Role } from '../storage/types.js';
import { createTestHorde, REGEN_AGENT, rcOf, type TestUser } from '../testing/test-horde.js';
import type { Horde } from './horde.js';

const REGEN = REGEN_AGENT;
const ANON = { apiKey: '0000000000' };
type Creds = TestUser['creds'];
const setup = createTestHorde;

async function kudosOf(horde: Horde, id: number) {
  const account = (await horde.getAccount(id))!;
  return { balance: account.balance / 100, escrow: account.escrow / 100, reserved: account.reserved / 100 };
}

/** Everything a rejected call must leave untouched: money, reservations, active jobs, the queues, the journal. */
async function ledgerState(horde: Horde) {
  const store = horde.store;
  const accounts = await store.listAccounts({ offset: 0, limit: 1000, sort: 'age' });
  return {
    journal: (await store.readJournal()).length,
    totals: await store.ledgerTotals(),
    image: await store.queueSummary('image'),
    text: await store.queueSummary('text'),
    accounts: accounts.map((a) => [a.id, a.balance, a.escrow, a.reserved, a.activeJobs]),
  };
}

function imageWorker(name: string, extra: Record<string, unknown> = {}) {
  return { name, models: ['stable_diffusion'], bridge_agent: REGEN, ...extra };
}

function textWorker(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    models: ['koboldcpp/Mistral-7B-Instruct-v0.2'],
    bridge_agent: 'KoboldCppEmbedWorker:1',
    ...extra,
  };
}

const done = (id: string) => ({ id, generation: 'R2', seed: 1 });

describe('activation tax and the accepted kudos field', () => {
  it('charges 3 for an image request and answers the per-job price, not the total', async () => {
    const { horde, store, user } = await setup();
    const alice = await user('alice', 100);
    const accepted = await horde.generateImage(alice.creds, { prompt: 'a lighthouse', params: { n: 4 } });
    expect(accepted.id).toBeTruthy();
    expect((await kudosOf(horde, alice.id)).balance).toBe(97);
    const request = (await store.getRequest(accepted.id!))!;
    expect(accepted.kudos).toBe(Math.round(request.jobPrice / 100));
    expect(accepted.kudos).toBeGreaterThan(0);
    expect((await horde.checkRequest(accepted.id!)).kudos).toBe(3);
    expect(request.priority).toBe(100);
  });

  it('charges 1 for a text request, whose accepted kudos field is 0', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const accepted = await horde.generateText(alice.creds, { prompt: 'Once upon a time' });
    expect(accepted.kudos).toBe(0);
    expect((await kudosOf(horde, alice.id)).balance).toBe(99);
    expect((await horde.checkRequest(accepted.id!)).kudos).toBe(1);
  });

  it('lifts a fresh account to its floor on its first charge (pseudonymous 14, verified 25)', async () => {
    const { horde } = await setup();
    const pseudo = await horde.registerAccount({ username: 'pseudo' });
    const verified = await horde.registerAccount({ username: 'verified', kind: 'verified' });
    await horde.generateImage({ apiKey: pseudo.apiKey }, { prompt: 'x' });
    await horde.generateImage({ apiKey: verified.apiKey }, { prompt: 'x' });
    expect((await kudosOf(horde, pseudo.account.id)).balance).toBe(14);
    expect((await kudosOf(horde, verified.account.id)).balance).toBe(25);
  });

  it('lets the anonymous account spend down to -50, never below', async () => {
    const { horde } = await setup();
    for (let i = 0; i < 20; i++) await horde.generateImage(ANON, { prompt: 'x' });
    expect((await kudosOf(horde, 0)).balance).toBe(-50);
  });
});

describe('dry run', () => {
  it('estimates without charging or enqueueing anything', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const before = await ledgerState(horde);
    const image = await horde.generateImage(alice.creds, { prompt: 'x', params: { n: 3 }, dry_run: true });
    const text = await horde.generateText(alice.creds, { prompt: 'x', dry_run: true });
    expect(image.id).toBeNull();
    expect(image.kudos).toBeGreaterThan(3);
    expect(text.id).toBeNull();
    expect(text.kudos).toBeGreaterThan(1);
    expect(await ledgerState(horde)).toEqual(before);
  });
});

describe('upfront kudos (spec §2.5)', () => {
  const big = { prompt: 'a cathedral', params: { width: 1024, height: 1024, steps: 50 } };

  it('refuses a 1024×1024 50-step request from a fresh account: KudosUpfront, nothing charged or queued', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice');
    const before = await ledgerState(horde);
    expect(await rcOf(horde.generateImage(alice.creds, big))).toBe('KudosUpfront');
    expect(await ledgerState(horde)).toEqual(before);
  });

  it('accepts it with allow_downgrade: the popped payload has the free-tier steps', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    const accepted = await horde.generateImage(alice.creds, { ...big, allow_downgrade: true });
    expect((await kudosOf(horde, alice.id)).reserved).toBe(0);
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu', { max_pixels: 1024 * 1024 }));
    expect(pop.job?.requestId).toBe(accepted.id);
    expect(pop.job!.payload).toMatchObject({ width: 1024, height: 1024, ddim_steps: 30 });
  });

  it('shrinks an oversized image to fit max_res² with allow_downgrade', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice');
    const bob = await user('bob');
    await horde.generateImage(alice.creds, {
      prompt: 'a wide valley',
      params: { width: 1536, height: 1536, steps: 50 },
      allow_downgrade: true,
    });
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu', { max_pixels: 1536 * 1536 }));
    const payload = pop.job!.payload as { width: number; height: number; ddim_steps: number };
    expect(payload.width * payload.height).toBeLessThanOrEqual(1024 * 1024);
    expect(payload.width % 64).toBe(0);
    expect(payload.height % 64).toBe(0);
    expect(payload.width).toBe(payload.height);
    expect(payload.ddim_steps).toBe(30);
  });

  it('accepts it from an account with enough kudos, holds the estimate and releases it when done', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 500);
    const bob = await user('bob');
    const estimate = await horde.generateImage(alice.creds, { ...big, dry_run: true });
    const accepted = await horde.generateImage(alice.creds, big);
    expect(accepted.id).toBeTruthy();
    expect(await kudosOf(horde, alice.id)).toMatchObject({ balance: 497, reserved: estimate.kudos });
    // The hold is not spendable: a transfer may only move balance − floor − reserved.
    const spendable = 497 - 14 - estimate.kudos;
    expect(await rcOf(horde.transfer(alice.creds, { to: bob.alias, amount: spendable + 1 }))).toBe(
      'KudosTransferNotEnough',
    );
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu', { max_pixels: 1024 * 1024 }));
    expect(pop.job!.payload).toMatchObject({ ddim_steps: 50 });
    await horde.submitImage(bob.creds, done(pop.job!.id));
    expect((await kudosOf(horde, alice.id)).reserved).toBe(0);
  });

  it('requires upfront kudos for slow_workers:false', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice');
    expect(await rcOf(horde.generateImage(alice.creds, { prompt: 'x', slow_workers: false }))).toBe(
      'KudosUpfront',
    );
    const rich = await user('rich', 100);
    expect(await rcOf(horde.generateImage(rich.creds, { prompt: 'x', slow_workers: false }))).toBe('ok');
  });

  it('requires upfront kudos for text over the free max_length', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice');
    const long = { prompt: 'x', params: { max_length: 1024, max_context_length: 4096 } };
    expect(await rcOf(horde.generateText(alice.creds, long))).toBe('KudosUpfront');
    const accepted = await horde.generateText(alice.creds, { ...long, allow_downgrade: true });
    const bob = await user('bob');
    const pop = await horde.popText(
      bob.creds,
      textWorker('bob-llm', { max_length: 1024, max_context_length: 4096 }),
    );
    expect(pop.job?.requestId).toBe(accepted.id);
    expect(pop.job!.payload).toMatchObject({ max_length: 512 });
  });
});

describe('concurrency', () => {
  it('refuses more than 30 waiting jobs per account: TooManyPrompts, nothing charged', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    await horde.generateImage(alice.creds, { prompt: 'x', params: { n: 20 } });
    const before = await ledgerState(horde);
    expect(await rcOf(horde.generateImage(alice.creds, { prompt: 'x', params: { n: 11 } }))).toBe(
      'TooManyPrompts',
    );
    expect(await ledgerState(horde)).toEqual(before);
    expect(await rcOf(horde.generateImage(alice.creds, { prompt: 'x', params: { n: 10 } }))).toBe('ok');
  });
});

describe('queue priority (spec §3.2)', () => {
  it('is the requester balance at activation: a richer user is popped first', async () => {
    const { horde, store, user } = await setup();
    const poor = await user('poor');
    const rich = await user('rich', 1000);
    const bob = await user('bob');
    const first = await horde.generateImage(poor.creds, { prompt: 'poor' });
    const second = await horde.generateImage(rich.creds, { prompt: 'rich' });
    expect((await store.getRequest(second.id!))!.priority).toBe(1000);
    expect((await horde.checkRequest(second.id!)).queue_position).toBe(1);
    expect((await horde.checkRequest(first.id!)).queue_position).toBe(2);
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect(pop.job?.requestId).toBe(second.id);
  });

  it('is round(kudos / 1000) for a flagged account above 10 kudos, else -100', async () => {
    const { horde, store, user } = await setup();
    const rich = await user('richflag', 5000, { flagged: true });
    const poor = await user('poorflag', 5, { flagged: true });
    const richRequest = await horde.generateImage(rich.creds, { prompt: 'x' });
    const poorRequest = await horde.generateImage(poor.creds, { prompt: 'x' });
    expect((await store.getRequest(richRequest.id!))!.priority).toBe(5);
    expect((await store.getRequest(poorRequest.id!))!.priority).toBe(-100);
  });

  it("serves the worker owner's and priority_usernames' requests first", async () => {
    const { horde, user } = await setup();
    const rich = await user('rich', 1000);
    const owner = await user('owner');
    const friend = await user('friend');
    const richRequest = await horde.generateImage(rich.creds, { prompt: 'rich' });
    const friendRequest = await horde.generateImage(friend.creds, { prompt: 'friend' });
    const ownRequest = await horde.generateImage(owner.creds, { prompt: 'own' });
    const worker = imageWorker('owner-gpu', { priority_usernames: [friend.alias] });
    const popped = [];
    for (let i = 0; i < 3; i++) popped.push((await horde.popImage(owner.creds, worker)).job?.requestId);
    // The owner and priority users share the first phase, in queue order among themselves.
    expect(new Set(popped.slice(0, 2))).toEqual(new Set([friendRequest.id, ownRequest.id]));
    expect(popped[2]).toBe(richRequest.id);
  });
});

describe('worker-side filters and skipped counts', () => {
  it('counts each reason a waiting request was not given to the worker', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const sfw = { nsfw: false };
    await horde.generateImage(alice.creds, { prompt: 'nsfw by default' });
    await horde.generateImage(alice.creds, { prompt: 'a dark CASTLE', ...sfw });
    await horde.generateImage(alice.creds, { prompt: 'trusted only', trusted_workers: true, ...sfw });
    await horde.generateImage(alice.creds, { prompt: 'big', params: { width: 1024, height: 1024 }, ...sfw });
    await horde.generateImage(alice.creds, {
      prompt: 'lora',
      params: { loras: [{ name: '12345' }] },
      ...sfw,
    });
    await horde.generateImage(alice.creds, { prompt: 'other model', models: ['Deliberate'], ...sfw });
    const pop = await horde.popImage(
      bob.creds,
      imageWorker('bob-gpu', { nsfw: false, blacklist: ['castle'] }),
    );
    expect(pop.job).toBeNull();
    expect(pop.skipped).toEqual({ nsfw: 1, blacklist: 1, untrusted: 1, max_pixels: 1, lora: 1, models: 1 });
  });

  it('gives each filtered request to a worker that qualifies', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const trustedOwner = await user('trusty', 0, { trusted: true });
    const nsfw = await horde.generateImage(alice.creds, { prompt: 'a dark castle' });
    const trusted = await horde.generateImage(alice.creds, {
      prompt: 'x',
      trusted_workers: true,
      nsfw: false,
    });
    const big = await horde.generateImage(alice.creds, {
      prompt: 'x',
      params: { width: 1024, height: 1024 },
    });
    const lora = await horde.generateImage(alice.creds, {
      prompt: 'x',
      params: { loras: [{ name: '12345' }] },
    });
    const worker = imageWorker('trusty-gpu', { max_pixels: 1024 * 1024, allow_lora: true });
    const served = new Set<string | undefined>();
    for (let i = 0; i < 4; i++) served.add((await horde.popImage(trustedOwner.creds, worker)).job?.requestId);
    expect(served).toEqual(new Set([nsfw.id, trusted.id, big.id, lora.id]));
  });

  it('honours a request allow-list and deny-list of workers (worker_id)', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const w1 = (await horde.popImage(bob.creds, imageWorker('bob-gpu-1'))).worker.id;
    const w2 = (await horde.popImage(bob.creds, imageWorker('bob-gpu-2'))).worker.id;

    const allowed = await horde.generateImage(alice.creds, { prompt: 'x', workers: [w1] });
    const wrong = await horde.popImage(bob.creds, imageWorker('bob-gpu-2'));
    expect(wrong).toMatchObject({ job: null, skipped: { worker_id: 1 } });
    expect((await horde.popImage(bob.creds, imageWorker('bob-gpu-1'))).job?.requestId).toBe(allowed.id);

    const denied = await horde.generateImage(alice.creds, {
      prompt: 'x',
      workers: [w1],
      worker_blacklist: true,
    });
    expect(await horde.popImage(bob.creds, imageWorker('bob-gpu-1'))).toMatchObject({
      job: null,
      skipped: { worker_id: 1 },
    });
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu-2'));
    expect(pop.job?.requestId).toBe(denied.id);
    expect(w1).not.toBe(w2);

    // A deny-list costs the requester 10 % more per job (spec §2.2); the worker is paid the same.
    const before = await kudosOf(horde, alice.id);
    const { reward } = await horde.submitImage(bob.creds, done(pop.job!.id));
    const after = await kudosOf(horde, alice.id);
    expect(after.balance).toBeCloseTo(before.balance - Math.round((reward + 1) * 1.1 * 100) / 100, 2);
  });

  it('refuses a request naming an unknown worker: WorkerNotFound (spec §1.1 `workers`)', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const before = await ledgerState(horde);
    expect(await rcOf(horde.generateImage(alice.creds, { prompt: 'x', workers: ['no-such-worker'] }))).toBe(
      'WorkerNotFound',
    );
    expect(await ledgerState(horde)).toEqual(before);
  });

  it('serves an SFW request to an SFW worker', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const accepted = await horde.generateImage(alice.creds, { prompt: 'x', nsfw: false });
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu', { nsfw: false }));
    expect(pop.job?.requestId).toBe(accepted.id);
  });
});

describe('credentials', () => {
  it('refuses a worker name owned by someone else and a submit by another account: WrongCredentials', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    const eve = await user('eve');
    await horde.generateImage(alice.creds, { prompt: 'x' });
    const pop = await horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect(await rcOf(horde.popImage(eve.creds, imageWorker('bob-gpu')))).toBe('WrongCredentials');
    expect(await rcOf(horde.submitImage(eve.creds, done(pop.job!.id)))).toBe('WrongCredentials');
    // The job is still the owner's to submit.
    expect((await horde.submitImage(bob.creds, done(pop.job!.id))).reward).toBeGreaterThan(0);
  });

  it('answers InvalidJobID for an unknown job and for a job of the other kind', async () => {
    const { horde, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    expect(await rcOf(horde.submitImage(bob.creds, done('no-such-job')))).toBe('InvalidJobID');
    await horde.generateText(alice.creds, { prompt: 'x' });
    const pop = await horde.popText(bob.creds, textWorker('bob-llm'));
    expect(await rcOf(horde.submitImage(bob.creds, done(pop.job!.id)))).toBe('InvalidJobID');
    expect(await rcOf(horde.submitText(bob.creds, { id: pop.job!.id, generation: 'hello' }))).toBe('ok');
  });

  it('refuses anonymous workers: AnonForbiddenWorker', async () => {
    const { horde } = await setup();
    expect(await rcOf(horde.popImage(ANON, imageWorker('anon-gpu')))).toBe('AnonForbiddenWorker');
    expect(await rcOf(horde.popText(ANON, textWorker('anon-llm')))).toBe('AnonForbiddenWorker');
  });
});

describe('worker rewards and escrow (spec §2.4)', () => {
  async function serveOne(ownerRoles: Partial<Record<Role, boolean>>) {
    const env = await setup();
    const alice = await env.user('alice', 100);
    const owner = await env.user('owner', 0, ownerRoles);
    await env.horde.generateImage(alice.creds, { prompt: 'x' });
    const pop = await env.horde.popImage(owner.creds, imageWorker('owner-gpu'));
    const { reward } = await env.horde.submitImage(owner.creds, done(pop.job!.id));
    return { ...env, owner, reward, kudos: await kudosOf(env.horde, owner.id) };
  }

  it('holds half of an untrusted owner’s reward in escrow', async () => {
    const { reward, kudos } = await serveOne({});
    expect(reward).toBeGreaterThan(0);
    const escrow = Math.round((reward * 100) / 2) / 100;
    expect(kudos.escrow).toBeCloseTo(escrow, 2);
    expect(kudos.balance).toBeCloseTo(reward - escrow, 2);
  });

  it('pays a trusted owner the whole reward', async () => {
    const { reward, kudos } = await serveOne({ trusted: true });
    expect(kudos).toMatchObject({ balance: reward, escrow: 0 });
  });

  it('releases the escrow when the owner becomes trusted', async () => {
    const { horde, admin, owner, reward } = await serveOne({});
    await horde.modifyAccount(admin, owner.id, { trusted: true });
    const kudos = await kudosOf(horde, owner.id);
    expect(kudos.escrow).toBe(0);
    expect(kudos.balance).toBeCloseTo(reward, 2);
  });
});

describe('censored images (spec §2.2)', () => {
  it('charges the requester only the burn while the worker is paid in full', async () => {
    const { horde, store, user } = await setup();
    const alice = await user('alice', 1000);
    const bob = await user('bob', 0, { trusted: true });
    const plain = await horde.generateImage(alice.creds, { prompt: 'x' });
    const censored = await horde.generateImage(alice.creds, { prompt: 'x' });
    const worker = imageWorker('bob-gpu');
    const jobs = new Map<string, string>();
    for (let i = 0; i < 2; i++) {
      const pop = await horde.popImage(bob.creds, worker);
      jobs.set(pop.job!.requestId, pop.job!.id);
    }
    const plainReward = (await horde.submitImage(bob.creds, done(jobs.get(plain.id!)!))).reward;
    const before = await kudosOf(horde, alice.id);
    const bobBefore = await kudosOf(horde, bob.id);
    const censoredReward = (
      await horde.submitImage(bob.creds, {
        ...done(jobs.get(censored.id!)!),
        gen_metadata: [{ type: 'censorship', value: 'nsfw' }],
      })
    ).reward;
    expect(censoredReward).toBe(plainReward);
    expect((await kudosOf(horde, alice.id)).balance).toBeCloseTo(before.balance - 1, 2);
    expect((await kudosOf(horde, bob.id)).balance).toBeCloseTo(bobBefore.balance + plainReward, 2);
    expect((await store.getRequest(censored.id!))!.consumed).toBe(300 + 100);
    const status = await horde.requestStatus(censored.id!);
    expect(status.generations[0]).toMatchObject({ censored: true });
  });
});

describe('cancellation (spec §1.1 DELETE)', () => {
  async function cancelledInFlight() {
    const env = await setup();
    const alice = await env.user('alice', 100);
    const bob = await env.user('bob');
    const accepted = await env.horde.generateImage(alice.creds, { prompt: 'x', params: { n: 3 } });
    const pop = await env.horde.popImage(bob.creds, imageWorker('bob-gpu'));
    expect(pop.job!.ids).toHaveLength(1);
    const before = await env.horde.cancelRequest(accepted.id!);
    expect(before).toMatchObject({ waiting: 2, processing: 1, done: false });
    return { ...env, alice, bob, id: accepted.id!, jobId: pop.job!.id };
  }

  it('stops new pops; the job in flight still settles normally afterwards', async () => {
    const { horde, alice, bob, id, jobId } = await cancelledInFlight();
    expect((await horde.popImage(bob.creds, imageWorker('bob-gpu-2'))).job).toBeNull();
    const balance = (await kudosOf(horde, alice.id)).balance;
    const { reward } = await horde.submitImage(bob.creds, done(jobId));
    expect(reward).toBeGreaterThan(0);
    expect((await kudosOf(horde, alice.id)).balance).toBeCloseTo(balance - reward - 1, 2);
    expect(await horde.checkRequest(id)).toMatchObject({
      finished: 1,
      processing: 0,
      waiting: 0,
      done: true,
    });
    expect((await horde.getAccount(alice.id))!.activeJobs).toBe(0);
  });

  it('is done once its job in flight has failed', async () => {
    const { horde, bob, id, jobId } = await cancelledInFlight();
    await horde.submitImage(bob.creds, { ...done(jobId), state: 'faulted' });
    expect(await horde.checkRequest(id)).toMatchObject({ processing: 0, waiting: 0, done: true });
  });

  it('answers RequestNotFound for an unknown request', async () => {
    const { horde } = await setup();
    expect(await rcOf(horde.cancelRequest('no-such-request'))).toBe('RequestNotFound');
  });
});

describe('kudos transfers (spec §2.11)', () => {
  async function transferSetup() {
    const env = await setup();
    const alice = await env.user('alice', 1000);
    const bob = await env.user('bobby', 100);
    const carol = await env.user('carol');
    const flagged = await env.user('flagged', 100, { flagged: true });
    const school = await env.user('school', 100, { education: true });
    return { ...env, alice, bob, carol, flagged, school };
  }

  it('answers every refusal with its rc and moves nothing', async () => {
    const { horde, clock, alice, bob, flagged, school } = await transferSetup();
    const before = await ledgerState(horde);
    const cases: [Creds, string, unknown, string][] = [
      [alice.creds, alice.alias, 10, 'KudosTransferToSelf'],
      [alice.creds, 'Anonymous#0', 10, 'KudosTransferToAnon'],
      [ANON, bob.alias, 10, 'KudosTransferFromAnon'],
      [alice.creds, bob.alias, 987, 'KudosTransferNotEnough'],
      [alice.creds, bob.alias, -5, 'NegativeKudosTransfer'],
      [alice.creds, bob.alias, 0, 'InvalidKudosTransferAmount'],
      [alice.creds, bob.alias, 1.5, 'InvalidKudosTransferAmount'],
      [alice.creds, bob.alias, '10', 'InvalidKudosTransferAmount'],
      [alice.creds, bob.alias, Number.NaN, 'InvalidKudosTransferAmount'],
      [alice.creds, 'nobody#999', 10, 'InvalidTargetUsername'],
      [alice.creds, `wrongname#${bob.id}`, 10, 'InvalidTargetUsername'],
      [alice.creds, '', 10, 'InvalidTargetUsername'],
      [flagged.creds, bob.alias, 10, 'SourceAccountFlagged'],
      [alice.creds, flagged.alias, 10, 'TargetAccountFlagged'],
      [school.creds, bob.alias, 10, 'EducationCannotSendKudos'],
    ];
    for (const [creds, to, amount, rc] of cases) {
      expect([to, amount, await rcOf(horde.transfer(creds, { to, amount }))]).toEqual([to, amount, rc]);
    }
    expect(await ledgerState(horde)).toEqual(before);

    // Everything above the floor is spendable: 1000 − 14.
    expect(await rcOf(horde.transfer(alice.creds, { to: bob.alias, amount: 986 }))).toBe('ok');
    expect((await kudosOf(horde, alice.id)).balance).toBe(14);
    // Anti ping-pong: bob cannot send back within 60 s.
    expect(await rcOf(horde.transfer(bob.creds, { to: alice.alias, amount: 5 }))).toBe(
      'TooFastKudosTransfers',
    );
    clock.advance(61_000);
    expect(await rcOf(horde.transfer(bob.creds, { to: alice.alias, amount: 5 }))).toBe('ok');
    const totals = await horde.store.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
  });

  it('replays a transfer with the same idempotency key and refuses a different one with it', async () => {
    const { horde, alice, bob, carol } = await transferSetup();
    const first = await horde.transfer(alice.creds, { to: bob.alias, amount: 10, idempotencyKey: 'k1' });
    expect(first).toMatchObject({ transferred: 10, replayed: false });
    const after = await ledgerState(horde);
    const again = await horde.transfer(alice.creds, { to: bob.alias, amount: 10, idempotencyKey: 'k1' });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await ledgerState(horde)).toEqual(after);
    expect(await rcOf(horde.transfer(alice.creds, { to: bob.alias, amount: 11, idempotencyKey: 'k1' }))).toBe(
      'IdempotencyKeyConflict',
    );
    expect(
      await rcOf(horde.transfer(alice.creds, { to: carol.alias, amount: 10, idempotencyKey: 'k1' })),
    ).toBe('IdempotencyKeyConflict');
    expect(await ledgerState(horde)).toEqual(after);
    // Keys belong to the sender: bob may use "k1" for his own transfer.
    expect(await rcOf(horde.transfer(bob.creds, { to: carol.alias, amount: 10, idempotencyKey: 'k1' }))).toBe(
      'ok',
    );
    expect((await kudosOf(horde, alice.id)).balance).toBe(990);
    expect((await kudosOf(horde, bob.id)).balance).toBe(100);
    expect((await kudosOf(horde, carol.id)).balance).toBe(10);
  });
});

describe('hostile input to every verb', () => {
  it('only ever fails with a HordeError, and a rejected call changes nothing', async () => {
    const { horde, admin, user } = await setup();
    const alice = await user('alice', 100);
    const bob = await user('bob');
    await horde.generateImage(alice.creds, { prompt: 'x' });
    await horde.popImage(bob.creds, imageWorker('bob-gpu'));

    const nearImage = fc.record(
      {
        prompt: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()),
        params: fc.oneof(
          fc.record(
            {
              width: fc.oneof(fc.integer({ min: -64, max: 4096 }), fc.anything()),
              height: fc.oneof(fc.constantFrom(64, 512, 3072, 3136), fc.anything()),
              steps: fc.oneof(fc.integer({ min: -1, max: 600 }), fc.anything()),
              n: fc.oneof(fc.integer({ min: -1, max: 25 }), fc.anything()),
              loras: fc.anything(),
              post_processing: fc.oneof(fc.constant(['RealESRGAN_x4plus', 'NMKD_Siax']), fc.anything()),
            },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
        models: fc.oneof(fc.constant(['stable_diffusion']), fc.anything()),
        workers: fc.anything(),
        nsfw: fc.anything(),
        source_image: fc.anything(),
        dry_run: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const verbs = fc.oneof(
      fc.record({ verb: fc.constant('image' as const), input: fc.oneof(fc.anything(), nearImage) }),
      fc.record({ verb: fc.constant('text' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('popImage' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('popText' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('submitImage' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('submitText' as const), input: fc.anything() }),
      fc.record({
        verb: fc.constant('transfer' as const),
        input: fc.record({ to: fc.anything(), amount: fc.anything(), idempotencyKey: fc.anything() }),
      }),
      fc.record({ verb: fc.constant('check' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('status' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('cancel' as const), input: fc.anything() }),
      fc.record({ verb: fc.constant('award' as const), input: fc.tuple(fc.anything(), fc.anything()) }),
      fc.record({ verb: fc.constant('register' as const), input: fc.record({ username: fc.anything() }) }),
    );

    await fc.assert(
      fc.asyncProperty(verbs, async ({ verb, input }) => {
        const before = await ledgerState(horde);
        const call = (): Promise<unknown> => {
          switch (verb) {
            case 'image':
              return horde.generateImage(alice.creds, input);
            case 'text':
              return horde.generateText(alice.creds, input);
            case 'popImage':
              return horde.popImage(bob.creds, input);
            case 'popText':
              return horde.popText(bob.creds, input);
            case 'submitImage':
              return horde.submitImage(bob.creds, input);
            case 'submitText':
              return horde.submitText(bob.creds, input);
            case 'transfer':
              return horde.transfer(alice.creds, input as never);
            case 'check':
              return horde.checkRequest(input as string);
            case 'status':
              return horde.requestStatus(input as string);
            case 'cancel':
              return horde.cancelRequest(input as string);
            case 'award': {
              const [to, amount] = input as [unknown, unknown];
              return horde.award(admin, to as string, amount);
            }
            case 'register':
              return horde.registerAccount(input as never);
          }
        };
        let accepted: unknown;
        try {
          accepted = await call();
        } catch (error) {
          if (!(error instanceof HordeError)) throw error;
          expect(await ledgerState(horde)).toEqual(before);
          return;
        }
        // An accepted request is real: it was charged and queued (or was a dry run, which charges nothing).
        if ((verb === 'image' || verb === 'text') && (accepted as { id: string | null }).id) {
          const id = (accepted as { id: string }).id;
          const request = (await horde.store.getRequest(id))!;
          await horde.cancelRequest(id);
          expect(request.consumed).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
    const totals = await horde.store.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
  });
});
