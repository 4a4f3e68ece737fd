/**
 * Property tests: a real `Horde` on an in-memory SQLite store and a `FakeClock`, driven through random
 * sequences of commands (accounts and grants, image and text requests, pops by several workers, submits —
 * ok, censored, faulted, duplicate, late, by the wrong account —, cancellations, failures, clock jumps,
 * sweeps, transfers with and without idempotency keys, maintenance). After every command the ledger and the
 * queue must hold together:
 *
 * (a) kudos are conserved: balances + escrow = minted − burnt, and replaying the journal gives every
 *     account's balance and escrow;
 * (b) no debit leaves a balance below its floor, and a balance below its floor (fresh accounts start at
 *     0, under it) never decreases;
 * (c) no job is handed out twice, and a request never hands out more jobs than it has plus its failures;
 * (d) each account's `activeJobs` and `reserved` are the sums over its live requests;
 * plus: the request counters agree with its jobs, what a request consumed and each job's cost and reward
 * agree with the journal, final states stay final, and an active request always has work waiting or in
 * flight (and a queue position while something waits).
 * Each command's own outcome is checked too (a submit answers by the job's state: ok, DuplicateGen,
 * AbortedGen, InvalidJobID, WrongCredentials), and any error other than a `HordeError` fails the run. A
 * few commands at a time also run concurrently, with only the invariants checked afterwards.
 * At the end, once everything in flight is settled and every TTL and expiry has passed, every accepted
 * request has ended `done`, `faulted`, `cancelled` or `expired`: none is lost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../drivers/sqlite/index.js';
import { HordeError, RETURN_CODES, type ReturnCode } from '../errors.js';
import type { RequestKind, RequestState } from '../storage/types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createHorde, type Horde } from './horde.js';

const REGEN = 'AI Horde Worker reGen:13.0.0:https://github.com/Haidra-Org/horde-worker-reGen';
const ANON = { apiKey: '0000000000' };
const MINUTE = 60_000;

type Creds = { apiKey: string };

interface WorkerDef {
  name: string;
  kind: RequestKind;
  /** Index of the owning account (1..3 are the accounts every run starts with). */
  owner: number;
  body: Record<string, unknown>;
}

const MISTRAL = 'koboldcpp/Mistral-7B-Instruct-v0.2';
const MYTHOMAX = 'Gryphe/MythoMax-L2-13b';

const WORKERS: WorkerDef[] = [
  { name: 'w-small', kind: 'image', owner: 1, body: { models: ['stable_diffusion'], amount: 1 } },
  {
    name: 'w-big',
    kind: 'image',
    owner: 2,
    body: {
      models: ['stable_diffusion', 'Deliberate'],
      max_pixels: 1024 * 1024,
      amount: 4,
      allow_lora: true,
    },
  },
  {
    name: 'w-sdxl',
    kind: 'image',
    owner: 3,
    body: { models: ['SDXL 1.0'], max_pixels: 1024 * 1024, amount: 2, nsfw: false, blacklist: ['castle'] },
  },
  {
    name: 'w-any',
    kind: 'image',
    owner: 1,
    body: { models: ['stable_diffusion', 'SDXL 1.0', 'Deliberate'], max_pixels: 768 * 768, amount: 3 },
  },
  { name: 't-small', kind: 'text', owner: 2, body: { models: [MISTRAL], max_length: 512, amount: 2 } },
  {
    name: 't-big',
    kind: 'text',
    owner: 3,
    body: { models: [MYTHOMAX], max_length: 1024, max_context_length: 4096, amount: 1 },
  },
];

// ---------------------------------------------------------------------------------------------------------
// Commands

/** Indices are taken modulo the number of things that exist when the command runs. */
const index = fc.nat({ max: 1_000 });
const rarely = fc.oneof(
  { weight: 9, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);
const mostly = rarely.map((b) => !b);

const singleCommandArb = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('register' as const),
      trusted: rarely,
      verified: fc.boolean(),
      kudos: fc.constantFrom(0, 0, 20, 200, 5000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('grant' as const),
      who: index,
      how: fc.constantFrom('admin' as const, 'award' as const, 'trust' as const),
      kudos: fc.constantFrom(-500, -5, 10, 100, 1000),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('image' as const),
      who: index,
      n: fc.integer({ min: 1, max: 5 }),
      size: fc.constantFrom([512, 512], [768, 768], [1024, 1024], [1024, 576], [1536, 1024]),
      steps: fc.constantFrom(10, 30, 50),
      sampler: fc.constantFrom('k_euler_a', 'k_heun', 'k_dpm_adaptive'),
      models: fc.constantFrom(
        ['stable_diffusion'],
        ['Deliberate'],
        ['SDXL 1.0'],
        [],
        ['stable_diffusion', 'SDXL 1.0'],
      ),
      prompt: fc.constantFrom('a castle at dawn', 'a lighthouse'),
      slow: mostly,
      downgrade: fc.boolean(),
      nsfw: fc.boolean(),
      lora: rarely,
      trustedWorkers: rarely,
      denyList: rarely,
      dryRun: rarely,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('text' as const),
      who: index,
      n: fc.integer({ min: 1, max: 3 }),
      maxLength: fc.constantFrom(80, 300, 600),
      context: fc.constantFrom(1024, 2048, 4096),
      models: fc.constantFrom([], [MISTRAL], [MYTHOMAX]),
      slow: mostly,
      downgrade: fc.boolean(),
    }),
  },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('pop' as const), worker: index, asOther: rarely }) },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('submit' as const),
      job: index,
      mode: fc.constantFrom(
        'ok' as const,
        'ok' as const,
        'ok' as const,
        'censored' as const,
        'faulted' as const,
        'other' as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fail' as const), job: index }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), request: index }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('advance' as const),
      ms: fc.constantFrom(1_000, 10_000, 61_000, 151_000, 400_000, 21 * MINUTE),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('sweep' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('transfer' as const),
      from: index,
      to: index,
      amount: fc.constantFrom(1, 5, 5, 50, 500, 0, -3, 2.5),
      key: fc.constantFrom(null, null, 'k0', 'k1'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('maintenance' as const), worker: index, on: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('check' as const), request: index }) },
);
type SingleCommand = typeof singleCommandArb extends fc.Arbitrary<infer C> ? C : never;

/** A few commands at once: their awaits interleave, as concurrent HTTP calls would. */
const commandArb = fc.oneof(
  { weight: 12, arbitrary: singleCommandArb },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('parallel' as const),
      commands: fc.array(singleCommandArb, { minLength: 2, maxLength: 4 }),
    }),
  },
);
type Command = SingleCommand | { t: 'parallel'; commands: SingleCommand[] };

// ---------------------------------------------------------------------------------------------------------
// The world a run builds, and what it remembers to check against

interface Account {
  id: number;
  alias: string;
  creds: Creds;
}

interface Accepted {
  id: string;
  accountId: number;
  /** Jobs asked for. */
  n: number;
}

interface Popped {
  id: string;
  kind: RequestKind;
  requestId: string;
  /** Account index of the worker's owner. */
  owner: number;
}

const FINAL: ReadonlySet<RequestState> = new Set(['done', 'faulted', 'cancelled', 'expired']);
const TRANSFER_RCS: ReadonlySet<string> = new Set([
  'KudosTransferToSelf',
  'KudosTransferToAnon',
  'KudosTransferFromAnon',
  'KudosTransferNotEnough',
  'NegativeKudosTransfer',
  'InvalidKudosTransferAmount',
  'TooFastKudosTransfers',
  'InvalidTargetUsername',
  'IdempotencyKeyConflict',
]);

class World {
  readonly accounts: Account[] = [];
  readonly requests: Accepted[] = [];
  readonly jobs: Popped[] = [];
  /** Jobs handed out, per request. */
  readonly claimed = new Map<string, number>();
  readonly workerOwner = new Map<string, number>();
  readonly transferIds = new Map<string, number>();
  private readonly states = new Map<string, RequestState>();
  private balances = new Map<number, number>();

  constructor(
    readonly horde: Horde,
    readonly clock: FakeClock,
  ) {}

  get store() {
    return this.horde.store;
  }

  async register(trusted: boolean, verified: boolean, kudos: number): Promise<Account> {
    const username = `user${this.accounts.length}`;
    const { account, apiKey } = await this.horde.registerAccount({
      username,
      kind: verified ? 'verified' : 'pseudonymous',
      roles: { trusted },
    });
    const created = { id: account.id, alias: `${username}#${account.id}`, creds: { apiKey } };
    this.accounts.push(created);
    if (kudos !== 0) await this.horde.modifyAccount(this.admin, account.id, { kudos });
    return created;
  }

  get admin(): Creds {
    return this.accounts[0]!.creds;
  }

  /** An account by index, where one index past the end is the anonymous account. */
  requester(i: number): { id: number; creds: Creds } {
    const at = i % (this.accounts.length + 1);
    return at === this.accounts.length ? { id: 0, creds: ANON } : this.accounts[at]!;
  }

  // -------------------------------------------------------------------------------------------------------
  // Running one command

  /**
   * Runs a command. Violations of the rules throw; an outcome other than the one expected from the state
   * before the command is returned as an Error and fails the property, except for commands run in
   * parallel, whose outcomes depend on the interleaving (they must still fail only with a `HordeError`).
   */
  async run(command: Command): Promise<void> {
    if (command.t === 'parallel') {
      const tolerate = (error: unknown) => {
        if (!(error instanceof HordeError)) throw error;
      };
      await Promise.all(command.commands.map((c) => this.execute(c).catch(tolerate)));
      return;
    }
    const unexpected = await this.execute(command);
    if (unexpected instanceof Error) throw unexpected;
  }

  private async execute(command: SingleCommand): Promise<Error | undefined> {
    const horde = this.horde;
    switch (command.t) {
      case 'register':
        await this.register(command.trusted, command.verified, command.kudos);
        return;
      case 'grant': {
        const target = this.accounts[command.who % this.accounts.length]!;
        if (command.how === 'award') {
          const rc = await rcOf(horde.award(this.admin, target.alias, command.kudos));
          return expectRc(command, rc, command.kudos > 0 ? 'ok' : 'NegativeKudosTransfer');
        }
        // Trusting an account also releases its escrow into its balance.
        const changes = command.how === 'admin' ? { kudos: command.kudos } : { trusted: true };
        await horde.modifyAccount(this.admin, target.id, changes);
        return;
      }
      case 'image': {
        const requester = this.requester(command.who);
        const [width, height] = command.size;
        const body = {
          prompt: command.prompt,
          params: {
            width,
            height,
            steps: command.steps,
            n: command.n,
            sampler_name: command.sampler,
            ...(command.lora ? { loras: [{ name: '12345' }] } : {}),
          },
          models: command.models,
          nsfw: command.nsfw,
          slow_workers: command.slow,
          allow_downgrade: command.downgrade,
          trusted_workers: command.trustedWorkers,
          ...(command.denyList ? { workers: [], worker_blacklist: true } : {}),
          dry_run: command.dryRun,
        };
        return this.accept(command, requester.id, horde.generateImage(requester.creds, body));
      }
      case 'text': {
        const requester = this.requester(command.who);
        const body = {
          prompt: 'Once upon a time',
          params: { n: command.n, max_length: command.maxLength, max_context_length: command.context },
          models: command.models,
          slow_workers: command.slow,
          allow_downgrade: command.downgrade,
        };
        return this.accept(command, requester.id, horde.generateText(requester.creds, body));
      }
      case 'pop':
        return this.pop(command);
      case 'submit':
        return this.submit(command);
      case 'fail': {
        const job = this.jobs[command.job % Math.max(1, this.jobs.length)];
        if (job) await horde.failJob(job.id);
        return;
      }
      case 'cancel': {
        const request = this.requests[command.request % Math.max(1, this.requests.length)];
        if (!request) return;
        const stored = await this.store.getRequest(request.id);
        const rc = await rcOf(horde.cancelRequest(request.id));
        const mismatch = expectRc(command, rc, stored?.state === 'expired' ? 'RequestNotFound' : 'ok');
        if (mismatch) return mismatch;
        const after = (await this.store.getRequest(request.id))!;
        if (after.state === 'active') return new Error(`request ${request.id} is still active after cancel`);
        return;
      }
      case 'advance':
        this.clock.advance(command.ms);
        return;
      case 'sweep':
        await horde.sweep();
        return;
      case 'transfer':
        return this.transfer(command);
      case 'maintenance': {
        const def = WORKERS[command.worker % WORKERS.length]!;
        const worker = await this.store.getWorkerByName(def.name);
        const ownerIndex = this.workerOwner.get(def.name);
        if (!worker || ownerIndex === undefined) return;
        const owner = this.accounts[ownerIndex]!;
        await horde.modifyWorker(owner.creds, worker.id, { maintenance: command.on });
        return;
      }
      case 'check':
        return this.check(command);
    }
  }

  private async accept(
    command: Command,
    accountId: number,
    call: Promise<{ id: string | null }>,
  ): Promise<Error | undefined> {
    try {
      const { id } = await call;
      if (id === null) return;
      const stored = await this.store.getRequest(id);
      if (!stored) throw new Error(`accepted request ${id} is not in the store`);
      this.requests.push({ id, accountId, n: stored.jobs });
      this.claimed.set(id, this.claimed.get(id) ?? 0);
    } catch (error) {
      const rc = rcFrom(command, error);
      if (rc !== 'KudosUpfront' && rc !== 'TooManyPrompts')
        return new Error(`${show(command)} failed with ${rc}`);
    }
    return;
  }

  private async pop(command: Extract<Command, { t: 'pop' }>): Promise<Error | undefined> {
    const def = WORKERS[command.worker % WORKERS.length]!;
    const registered = this.workerOwner.get(def.name);
    const ownerIndex = registered ?? def.owner;
    const impostor = command.asOther && registered !== undefined;
    const creds = this.accounts[impostor ? otherThan(ownerIndex) : ownerIndex]!.creds;
    const body = { name: def.name, bridge_agent: REGEN, ...def.body };
    const call = def.kind === 'image' ? this.horde.popImage(creds, body) : this.horde.popText(creds, body);
    let result: Awaited<typeof call>;
    try {
      result = await call;
    } catch (error) {
      const rc = rcFrom(command, error);
      if (impostor) return expectRc(command, rc, 'WrongCredentials');
      if (rc === 'WorkerMaintenance') return;
      return new Error(`${show(command)} failed with ${rc}`);
    }
    if (impostor) throw new Error(`${show(command)}: another account popped as ${def.name}`);
    this.workerOwner.set(def.name, ownerIndex);
    const job = result.job;
    if (!job) return;
    if (job.ids[0] !== job.id) throw new Error('pop: id is not the first of ids');
    for (const id of job.ids) {
      if (this.jobs.some((j) => j.id === id)) throw new Error(`job ${id} was handed out twice`);
      const stored = await this.store.getJob(id);
      if (
        stored?.workerId !== result.worker.id ||
        stored.requestId !== job.requestId ||
        stored.kind !== def.kind
      ) {
        throw new Error(`job ${id} is not recorded as leased to ${def.name}`);
      }
      this.jobs.push({ id, kind: def.kind, requestId: job.requestId, owner: ownerIndex });
    }
    this.claimed.set(job.requestId, (this.claimed.get(job.requestId) ?? 0) + job.ids.length);
    return;
  }

  private async submit(command: Extract<Command, { t: 'submit' }>): Promise<Error | undefined> {
    const job = this.jobs[command.job % Math.max(1, this.jobs.length)];
    if (!job) return;
    const stored = await this.store.getJob(job.id);
    const other = command.mode === 'other';
    const creds = this.accounts[other ? otherThan(job.owner) : job.owner]!.creds;
    const censored =
      job.kind === 'image'
        ? { gen_metadata: [{ type: 'censorship', value: 'nsfw' }] }
        : { state: 'censored' as const };
    const body = {
      id: job.id,
      generation: job.kind === 'image' ? 'R2' : 'It was a dark and stormy night.',
      seed: 7,
      ...(command.mode === 'censored' ? censored : {}),
      ...(command.mode === 'faulted' ? { state: 'faulted' as const } : {}),
    };
    const expected: string = !stored
      ? 'InvalidJobID'
      : other
        ? 'WrongCredentials'
        : stored.state === 'done'
          ? 'DuplicateGen'
          : stored.state === 'processing'
            ? 'ok'
            : 'AbortedGen';
    const call =
      job.kind === 'image' ? this.horde.submitImage(creds, body) : this.horde.submitText(creds, body);
    const rc = await rcOf(call);
    const mismatch = expectRc(command, rc, expected, `job state ${stored?.state}`);
    if (mismatch || rc !== 'ok') return mismatch;
    const after = (await this.store.getJob(job.id))!;
    const state = command.mode === 'faulted' ? 'faulted' : 'done';
    if (after.state !== state) return new Error(`submitted job ${job.id} is ${after.state}, not ${state}`);
    return;
  }

  private async transfer(command: Extract<Command, { t: 'transfer' }>): Promise<Error | undefined> {
    const sender = this.requester(command.from);
    const targets = [...this.accounts.map((a) => a.alias), 'Anonymous#0', 'ghost#9999'];
    const to = targets[command.to % targets.length]!;
    const before = await this.moneyState();
    try {
      const outcome = await this.horde.transfer(sender.creds, {
        to,
        amount: command.amount,
        idempotencyKey: command.key,
      });
      if (command.key === null) return;
      const key = `${sender.id}:${command.key}`;
      const first = this.transferIds.get(key);
      if (outcome.replayed) {
        if (first !== outcome.transferId)
          return new Error(`replayed transfer ${outcome.transferId} ≠ ${first}`);
        const after = await this.moneyState();
        if (JSON.stringify(after) !== JSON.stringify(before))
          return new Error('a replayed transfer moved kudos');
      } else {
        if (first !== undefined) return new Error(`idempotency key ${key} moved kudos twice`);
        this.transferIds.set(key, outcome.transferId);
      }
    } catch (error) {
      const rc = rcFrom(command, error);
      if (!TRANSFER_RCS.has(rc)) return new Error(`${show(command)} failed with ${rc}`);
    }
    return;
  }

  private async check(command: Extract<Command, { t: 'check' }>): Promise<Error | undefined> {
    const request = this.requests[command.request % Math.max(1, this.requests.length)];
    if (!request) return;
    const stored = (await this.store.getRequest(request.id))!;
    if (stored.state === 'expired')
      return expectRc(command, await rcOf(this.horde.checkRequest(request.id)), 'RequestNotFound');
    const status = await this.horde.requestStatus(request.id);
    const wanted = {
      finished: stored.finished,
      processing: stored.processing,
      restarted: stored.faults,
      faulted: stored.state === 'faulted',
      kudos: Math.round(stored.consumed / 100),
      generations: stored.finished,
    };
    const got = { ...status, generations: status.generations.length };
    for (const [field, value] of Object.entries(wanted)) {
      if (got[field as keyof typeof got] !== value) {
        return new Error(
          `status of ${request.id}: ${field} is ${String(got[field as keyof typeof got])}, not ${value}`,
        );
      }
    }
    if (stored.state === 'done' && !status.done)
      return new Error(`request ${request.id} is done but status says not`);
    if (stored.state === 'active' && status.done)
      return new Error(`request ${request.id} is active but status says done`);
    return;
  }

  private async moneyState() {
    const accounts = await this.store.listAccounts({ offset: 0, limit: 10_000, sort: 'age' });
    return accounts.map((a) => [a.id, a.balance, a.escrow, a.reserved]);
  }

  // -------------------------------------------------------------------------------------------------------
  // The invariants

  async checkInvariants(): Promise<void> {
    const store = this.store;
    // (a) conservation, and the journal replays to every balance and escrow
    const totals = await store.ledgerTotals();
    expect(totals.balances + totals.escrow, 'balances + escrow = minted − burnt').toBe(
      totals.minted - totals.burnt,
    );
    const replayed = new Map<number, { balance: number; escrow: number }>();
    /** Journal movements per kind and ref (a request id for the tax, a job id for its settlement). */
    const byRef = new Map<string, number>();
    for (const entry of await store.readJournal()) {
      const sums = replayed.get(entry.accountId) ?? { balance: 0, escrow: 0 };
      sums.balance += entry.balanceDelta;
      sums.escrow += entry.escrowDelta;
      replayed.set(entry.accountId, sums);
      const key = `${entry.kind}:${entry.ref}`;
      byRef.set(key, (byRef.get(key) ?? 0) + entry.balanceDelta + entry.escrowDelta);
    }
    const accounts = await store.listAccounts({ offset: 0, limit: 10_000, sort: 'age' });
    const balances = new Map<number, number>();
    for (const account of accounts) {
      const sums = replayed.get(account.id) ?? { balance: 0, escrow: 0 };
      expect({ id: account.id, balance: account.balance, escrow: account.escrow }, 'journal replay').toEqual({
        id: account.id,
        ...sums,
      });
      expect(account.escrow, 'escrow ≥ 0').toBeGreaterThanOrEqual(0);
      expect(account.reserved, 'reserved ≥ 0').toBeGreaterThanOrEqual(0);
      // (b) a debit stops at the floor; below the floor a balance only grows
      const floor = this.horde.floorOf(account) * 100;
      const before = this.balances.get(account.id) ?? 0;
      if (account.balance < before) {
        expect(account.balance, `account ${account.id} was debited below its floor`).toBeGreaterThanOrEqual(
          floor,
        );
      }
      balances.set(account.id, account.balance);
    }
    this.balances = balances;

    // (c) every job handed out once, and only jobs of accepted requests
    expect(new Set(this.jobs.map((job) => job.id)).size, 'a job was handed out twice').toBe(this.jobs.length);
    for (const job of this.jobs) {
      expect(this.claimed.has(job.requestId), `job ${job.id} of an unknown request`).toBe(true);
    }

    // (c), (d) and the request counters
    const active = new Map<number, number>();
    const reserved = new Map<number, number>();
    for (const accepted of this.requests) {
      const request = await store.getRequest(accepted.id);
      expect(request, `request ${accepted.id} was lost`).toBeDefined();
      if (!request) return;
      const previous = this.states.get(request.id);
      if (previous !== undefined && FINAL.has(previous)) {
        expect([previous, request.state], `request ${request.id} left a final state`).toSatisfy(
          ([from, to]: RequestState[]) => to === from || to === 'expired',
        );
      }
      this.states.set(request.id, request.state);
      const counters = {
        waiting: request.waiting,
        processing: request.processing,
        finished: request.finished,
        faults: request.faults,
      };
      for (const [name, value] of Object.entries(counters)) {
        expect(value, `request ${request.id} ${name}`).toBeGreaterThanOrEqual(0);
      }
      expect(
        this.claimed.get(request.id)!,
        `request ${request.id} handed out more jobs than jobs + faults`,
      ).toBeLessThanOrEqual(accepted.n + request.faults);
      if (request.state === 'expired') {
        expect(request.reserved, 'an expired request holds no kudos').toBe(0);
        continue;
      }
      active.set(
        request.accountId,
        (active.get(request.accountId) ?? 0) + request.waiting + request.processing,
      );
      reserved.set(request.accountId, (reserved.get(request.accountId) ?? 0) + request.reserved);
      if (request.state === 'active') {
        expect(request.waiting + request.processing + request.finished, `request ${request.id} jobs`).toBe(
          request.jobs,
        );
        expect(
          request.waiting + request.processing,
          `active request ${request.id} has nothing to do`,
        ).toBeGreaterThan(0);
      } else {
        expect(request.waiting, `final request ${request.id} still waits`).toBe(0);
        expect(request.reserved, `final request ${request.id} still holds kudos`).toBe(0);
      }
      const jobs = await store.listRequestJobs(request.id);
      const count = (states: string[]) => jobs.filter((job) => states.includes(job.state)).length;
      // What the request consumed is its tax plus what its delivered jobs cost, as journaled.
      let consumed = -(byRef.get(`activation:${request.id}`) ?? 0);
      for (const job of jobs) {
        if (job.state !== 'done') continue;
        consumed += job.cost;
        expect(-(byRef.get(`generation:${job.id}`) ?? 0), `journaled cost of job ${job.id}`).toBe(job.cost);
        expect(byRef.get(`reward:${job.id}`) ?? 0, `journaled reward of job ${job.id}`).toBe(job.reward);
      }
      expect(request.consumed, `kudos consumed by request ${request.id}`).toBe(consumed);
      expect(
        {
          processing: count(['processing']),
          finished: count(['done']),
          faults: count(['faulted', 'aborted']),
        },
        `jobs of request ${request.id}`,
      ).toEqual({ processing: request.processing, finished: request.finished, faults: request.faults });
      const position = (await store.queuePosition(request.id))?.position ?? 0;
      const queued = request.state === 'active' && request.waiting > 0;
      expect(position > 0, `request ${request.id} queue position ${position}`).toBe(queued);
    }
    for (const account of accounts) {
      expect(account.activeJobs, `activeJobs of account ${account.id}`).toBe(active.get(account.id) ?? 0);
      expect(account.reserved, `reserved of account ${account.id}`).toBe(reserved.get(account.id) ?? 0);
    }
  }

  /** Settles everything in flight, then lets every TTL and expiry pass; every request must have ended. */
  async finish(): Promise<void> {
    let turn = 0;
    for (const job of this.jobs) {
      if ((await this.store.getJob(job.id))?.state !== 'processing') continue;
      const creds = this.accounts[job.owner]!.creds;
      const body = {
        id: job.id,
        generation: 'R2',
        seed: 1,
        ...(turn++ % 3 === 2 ? { state: 'faulted' as const } : {}),
      };
      const call =
        job.kind === 'image' ? this.horde.submitImage(creds, body) : this.horde.submitText(creds, body);
      expect(await rcOf(call), `final submit of ${job.id}`).toBe('ok');
    }
    await this.checkInvariants();
    this.clock.advance(3 * 60 * MINUTE);
    await this.horde.sweep();
    await this.checkInvariants();
    for (const accepted of this.requests) {
      const request = await this.store.getRequest(accepted.id);
      expect(request && FINAL.has(request.state), `request ${accepted.id} ended ${request?.state}`).toBe(
        true,
      );
    }
    for (const account of await this.store.listAccounts({ offset: 0, limit: 10_000, sort: 'age' })) {
      expect([account.id, account.activeJobs, account.reserved]).toEqual([account.id, 0, 0]);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

async function rcOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof HordeError) return error.rc;
    throw error;
  }
}

function show(command: Command): string {
  return JSON.stringify(command);
}

/** Some other account among the three every run starts with. */
function otherThan(index: number): number {
  return index === 1 ? 2 : 1;
}

/** The rc of a `HordeError`; anything else is a failure of the property. */
function rcFrom(command: Command, error: unknown): ReturnCode {
  if (error instanceof HordeError && (RETURN_CODES as readonly string[]).includes(error.rc)) return error.rc;
  throw new Error(`${show(command)} threw something other than a HordeError`, { cause: error });
}

function expectRc(command: Command, rc: string, expected: string, context = ''): Error | undefined {
  if (rc === expected) return;
  return new Error(`${show(command)} answered ${rc}, expected ${expected}${context ? ` (${context})` : ''}`);
}

async function runScenario(commands: Command[]): Promise<void> {
  const clock = new FakeClock();
  const store = await createSqliteStore({ path: ':memory:' });
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed - 1) / 2147483646;
  };
  const horde = await createHorde({ store, clock, random, config: { accounts: { adminIds: [1] } } });
  try {
    const world = new World(horde, clock);
    const admin = await world.register(false, false, 0);
    expect(admin.id).toBe(1);
    await world.register(false, false, 0);
    await world.register(true, true, 500);
    await world.register(false, false, 300);
    await world.checkInvariants();
    for (const [step, command] of commands.entries()) {
      try {
        await world.run(command);
        await world.checkInvariants();
      } catch (error) {
        throw new Error(`step ${step}: ${show(command)}: ${(error as Error).message}`, { cause: error });
      }
    }
    await world.finish();
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------------------

describe('engine invariants under random command sequences', () => {
  it('conserves kudos, respects floors, never double-assigns a job, and never loses a request', async () => {
    await fc.assert(fc.asyncProperty(fc.array(commandArb, { minLength: 20, maxLength: 80 }), runScenario), {
      numRuns: 120,
    });
  });
});
