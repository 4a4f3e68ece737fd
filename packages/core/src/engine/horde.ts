/**
 * `createHorde`: the embedded AI Horde. It owns no state of its own beyond caches — everything lives in
 * the store — so the same engine runs on the embedded SQLite driver or a shared database. Each method is
 * one engine verb; the modules beside this file hold the rules.
 *
 * @example
 * const horde = await createHorde({ store: await createSqliteStore({ path: 'horde.db' }) });
 * const { apiKey } = await horde.registerAccount({ username: 'alice' });
 * const { id } = await horde.generateImage({ apiKey }, { prompt: 'a lighthouse at dusk' });
 */
import { type Logger, pino } from 'pino';
import { type Clock, systemClock } from '../clock.js';
import { type HordeConfig, type HordeConfigInput, resolveConfig } from '../config.js';
import { createMemoryEventBus, type EventBus, type Unsubscribe } from '../events/bus.js';
import type { RequestEvent } from '../events/types.js';
import { alwaysLeader, type Leadership } from '../leadership.js';
import { createModelReference } from '../models/reference.js';
import type { ModelReference } from '../models/types.js';
import type { AccountRecord, HordeStore, RequestKind, WorkerRecord } from '../storage/types.js';
import * as accounts from './accounts.js';
import type { EngineContext } from './context.js';
import { failJobAndPublish, sweep } from './failures.js';
import { type GenerateOptions, type GenerateResult, generateImage, generateText } from './generate.js';
import {
  type ImageStatsTotals,
  imageTotals,
  type ModelState,
  type ModelStatsByPeriod,
  modelStats,
  type TextStatsTotals,
  textTotals,
} from './generation-stats.js';
import { createLoadTracker } from './load.js';
import { type PopResult, popJob } from './pop.js';
import { createPositionTicker } from './progress.js';
import { hordePerformance, type ModelStatus, modelStatuses } from './stats.js';
import {
  cancelRequest,
  checkRequest,
  type RequestCheck,
  type RequestStatus,
  requestStatus,
} from './status.js';
import { type SubmitResult, submitJob } from './submit.js';
import { awardKudos, type TransferOutcome, type TransferRequest, transferKudos } from './transfers.js';
import {
  listOnlineWorkers,
  modifyWorker,
  removeWorker,
  requireWorker,
  type WorkerChanges,
  type WorkerView,
  workerView,
} from './workers.js';

export interface HordeOptions {
  store: HordeStore;
  /** Any subset of the horde's numbers (floors, prices, limits, timings). @default the AI Horde's */
  config?: HordeConfigInput;
  /** @default systemClock */
  clock?: Clock;
  /** Image and text models the horde knows. @default createModelReference() (built-in, offline) */
  models?: ModelReference;
  /** @default createMemoryEventBus() */
  events?: EventBus;
  /** Engine decisions are logged at debug level. @default a silent logger */
  logger?: Logger;
  /** Server-wide secret mixed into API key hashes. @default '' */
  apiKeyPepper?: string;
  /** Uniform [0, 1) source for seeds and model choice. @default Math.random */
  random?: () => number;
  /**
   * Whether this node runs the sweeps. Several nodes on one database elect one (see
   * `startLeaderElection` in `@hordekit/core/postgres`). @default alwaysLeader
   */
  leadership?: Leadership;
}

export class Horde {
  readonly config: HordeConfig;
  readonly store: HordeStore;
  readonly events: EventBus;
  readonly models: ModelReference;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leadership: Leadership;
  private readonly ctx: EngineContext;
  private readonly ticker;
  private timers: (() => void)[] = [];
  /** Passes in progress, per timer: a pass is skipped while the previous one of the same timer runs. */
  private running = new Map<string, Promise<unknown>>();

  constructor(options: HordeOptions) {
    this.config = resolveConfig(options.config);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.models = options.models ?? createModelReference();
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.leadership = options.leadership ?? alwaysLeader;
    this.events =
      options.events ??
      createMemoryEventBus({
        onListenerError: (error) => this.logger.warn({ err: error }, 'event listener failed'),
      });
    this.ctx = {
      store: this.store,
      clock: this.clock,
      config: this.config,
      models: this.models,
      events: this.events,
      logger: this.logger,
      load: createLoadTracker(this.store, this.clock, this.config.workers),
      random: options.random ?? Math.random,
      apiKeyPepper: options.apiKeyPepper ?? '',
      matchers: new WeakMap(),
    };
    this.ticker = createPositionTicker(this.ctx);
  }

  // accounts ------------------------------------------------------------------------------------------

  /** Creates the anonymous account (id 0) if the store has none; `createHorde` calls it. */
  ensureAnonymousAccount(): Promise<AccountRecord> {
    return accounts.ensureAnonymous(this.ctx);
  }

  registerAccount(options: accounts.RegisterOptions) {
    return accounts.registerAccount(this.ctx, options);
  }
  rotateApiKey(accountId: number) {
    return accounts.rotateApiKey(this.ctx, accountId);
  }
  authenticate(credentials: accounts.Credentials): Promise<AccountRecord> {
    return accounts.authenticate(this.ctx, credentials);
  }
  /** Find or create the account of an outside identity (a chat platform's user). */
  accountForIdentity(
    provider: string,
    externalId: string,
    options: { username: string; kind?: 'pseudonymous' | 'verified' },
  ) {
    return accounts.accountForIdentity(this.ctx, provider, externalId, options);
  }
  findAccount(alias: string) {
    return accounts.findByAlias(this.ctx, alias);
  }
  getAccount(id: number) {
    return this.store.getAccount(id);
  }
  modifyAccount(actor: accounts.Credentials, targetId: number, changes: accounts.AccountChanges) {
    return this.authenticate(actor).then((account) =>
      accounts.modifyAccount(this.ctx, account, targetId, changes),
    );
  }
  /** The floor below which debits never take this account's balance (kudos). */
  floorOf(account: AccountRecord): number {
    return this.config.floors[account.kind];
  }

  // requests ------------------------------------------------------------------------------------------

  generateImage(
    credentials: accounts.Credentials,
    input: unknown,
    options?: GenerateOptions,
  ): Promise<GenerateResult> {
    return generateImage(this.ctx, credentials, input, options);
  }
  generateText(
    credentials: accounts.Credentials,
    input: unknown,
    options?: GenerateOptions,
  ): Promise<GenerateResult> {
    return generateText(this.ctx, credentials, input, options);
  }
  checkRequest(id: string): Promise<RequestCheck> {
    return checkRequest(this.ctx, id);
  }
  requestStatus(id: string): Promise<RequestStatus> {
    return requestStatus(this.ctx, id);
  }
  cancelRequest(id: string): Promise<RequestStatus> {
    return cancelRequest(this.ctx, id);
  }
  /** Listen to one request's events; call the returned function to stop. */
  onRequest(requestId: string, listener: (event: RequestEvent) => void): Unsubscribe {
    return this.events.onRequest(requestId, listener);
  }

  // workers -------------------------------------------------------------------------------------------

  popImage(credentials: accounts.Credentials, input: unknown): Promise<PopResult> {
    return popJob(this.ctx, credentials, 'image', input);
  }
  popText(credentials: accounts.Credentials, input: unknown): Promise<PopResult> {
    return popJob(this.ctx, credentials, 'text', input);
  }
  submitImage(credentials: accounts.Credentials, input: unknown): Promise<SubmitResult> {
    return submitJob(this.ctx, credentials, 'image', input);
  }
  submitText(credentials: accounts.Credentials, input: unknown): Promise<SubmitResult> {
    return submitJob(this.ctx, credentials, 'text', input);
  }
  async getWorker(id: string): Promise<WorkerView> {
    return workerView(this.ctx, await requireWorker(this.ctx, id));
  }
  async getWorkerRecord(id: string): Promise<WorkerRecord> {
    return requireWorker(this.ctx, id);
  }
  listWorkers(kind?: 'image' | 'text'): Promise<WorkerView[]> {
    return listOnlineWorkers(this.ctx, kind);
  }
  modifyWorker(credentials: accounts.Credentials, workerId: string, changes: WorkerChanges) {
    return modifyWorker(this.ctx, credentials, workerId, changes);
  }
  deleteWorker(credentials: accounts.Credentials, workerId: string) {
    return removeWorker(this.ctx, credentials, workerId);
  }

  // kudos ---------------------------------------------------------------------------------------------

  transfer(credentials: accounts.Credentials, request: TransferRequest): Promise<TransferOutcome> {
    return transferKudos(this.ctx, credentials, request);
  }
  award(credentials: accounts.Credentials, to: string, amount: unknown) {
    return awardKudos(this.ctx, credentials, to, amount);
  }

  // status --------------------------------------------------------------------------------------------

  modelStatuses(kind: 'image' | 'text' = 'image'): Promise<ModelStatus[]> {
    return modelStatuses(this.ctx, kind);
  }
  performance() {
    return hordePerformance(this.ctx);
  }
  /** Images and pixelsteps generated per window (`/stats/img/totals`). */
  imageTotals(): Promise<ImageStatsTotals> {
    return imageTotals(this.ctx);
  }
  /** Text jobs and tokens generated per window (`/stats/text/totals`). */
  textTotals(): Promise<TextStatsTotals> {
    return textTotals(this.ctx);
  }
  /** Completed jobs per model over a day, a month and ever (`/stats/img/models`, `/stats/text/models`). */
  modelStats(kind: RequestKind, modelState: ModelState = 'known'): Promise<ModelStatsByPeriod> {
    return modelStats(this.ctx, kind, modelState);
  }

  // time ----------------------------------------------------------------------------------------------

  /** One pass of the stale-lease and expiry sweep (the timer runs it every `queue.sweepIntervalMs`). */
  sweep(): Promise<{ aborted: number; expired: number }> {
    return sweep(this.ctx);
  }
  /** Publishes changed queue positions of watched requests (the timer runs it every second). */
  tickPositions(): Promise<void> {
    return this.ticker.tick();
  }
  /** Reports a job as failed on behalf of its worker (tests, tools). */
  failJob(jobId: string, reason: 'faulted' | 'aborted' = 'faulted'): Promise<void> {
    return this.store
      .getJob(jobId)
      .then((job) => (job ? failJobAndPublish(this.ctx, job, reason) : undefined));
  }

  /** Starts the background timers: sweeps (on the leader only) and position updates (on every node). */
  start(): this {
    if (this.timers.length) return this;
    const guard = (name: string, run: () => Promise<unknown>) => () => {
      if (this.running.has(name)) return;
      const pass = run()
        .catch((error) => this.logger.error({ err: error }, `${name} failed`))
        .finally(() => this.running.delete(name));
      this.running.set(name, pass);
    };
    this.timers.push(
      this.clock.every(
        this.config.queue.sweepIntervalMs,
        // One node of a multi-node horde sweeps; the others skip the tick.
        guard('sweep', () => (this.leadership.isLeader() ? this.sweep() : Promise.resolve())),
      ),
    );
    this.timers.push(
      this.clock.every(
        1000,
        guard('position update', () => this.tickPositions()),
      ),
    );
    return this;
  }

  /** Stops the timers and waits for a running pass to finish. */
  async stop(): Promise<void> {
    for (const cancel of this.timers.splice(0)) cancel();
    await Promise.all(this.running.values());
  }

  /** Stops the timers and closes the store. */
  async close(): Promise<void> {
    await this.stop();
    await this.store.close();
  }
}

/** Creates the engine on a store and makes sure the anonymous account exists. Call `start()` for the timers. */
export async function createHorde(options: HordeOptions): Promise<Horde> {
  const horde = new Horde(options);
  await horde.ensureAnonymousAccount();
  return horde;
}
