/**
 * The worker loop, common to image and text workers: pop while a thread is free, run each job on the
 * backend, deliver the result, and pace itself like the horde's own workers (spec ecosystem §1.1–§1.3):
 * a pop a second while idle, exponential backoff while the horde cannot be reached, a pause with the
 * owner's next step when the horde refuses the worker, a pause after too many failed jobs in a row, and a
 * drain on stop (no new pops; what is in flight is finished and submitted). `ImageWorker` and `TextWorker`
 * (image-worker.ts, text-worker.ts) say how to pop, run and submit their kind of job.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { shortId } from './display/format.js';
import { type HordeApi, HordeCallError } from './horde-api.js';
import { explainPopRefusal, summariseSkipped } from './messages.js';
import { RATE_WINDOW_MS, RateWindow } from './rates.js';
import type {
  JobPhase,
  JobView,
  NoticeLevel,
  WorkerReporter,
  WorkerSnapshot,
  WorkerState,
} from './status.js';
import {
  DEFAULT_SUBMIT_RETRY,
  type RetryPolicy,
  type SubmitOutcome,
  submitWithRetry,
  withRetry,
} from './submit.js';

export interface WorkerTiming {
  /** Between pops that found no job (reGen and the legacy worker: 1 s). */
  idlePollMs: number;
  /** Backoff while the horde cannot be reached or answers 5xx: doubles from `initial` up to `max`. */
  errorBackoffMs: { initial: number; max: number };
  /** Pause before asking again after a refusal the owner may fix any moment (maintenance). */
  shortPauseMs: number;
  /** Pause after a refusal that needs a configuration change (wrong key, someone else's name). */
  longPauseMs: number;
  /** Jobs failing in a row before popping pauses (reGen: 3), and for how long (reGen: 180 s). */
  faultsBeforePause: number;
  faultPauseMs: number;
  /** Longest a backend may take for one job; the pop's `ttl` lowers it. */
  jobTimeoutMs: number;
  submitRetry: RetryPolicy;
  uploadRetry: RetryPolicy;
  /** How often the backend's model list is read again. */
  modelRefreshMs: number;
}

export const DEFAULT_TIMING: WorkerTiming = {
  idlePollMs: 1000,
  errorBackoffMs: { initial: 5000, max: 60_000 },
  shortPauseMs: 60_000,
  longPauseMs: 300_000,
  faultsBeforePause: 3,
  faultPauseMs: 180_000,
  jobTimeoutMs: 300_000,
  submitRetry: DEFAULT_SUBMIT_RETRY,
  uploadRetry: { attempts: 3, initialDelayMs: 1000, maxDelayMs: 10_000 },
  modelRefreshMs: 300_000,
};

/** Pop settings every worker kind sends. */
export interface CommonWorkerOptions {
  api: HordeApi;
  /** The worker's name on the horde (unique across the horde; bound to the key's owner). */
  name: string;
  /** Jobs run at once. */
  threads?: number;
  /** Jobs of one request taken per pop (a batch). */
  amount?: number;
  nsfw?: boolean;
  blacklist?: string[];
  requireUpfrontKudos?: boolean;
  extraSlowWorker?: boolean;
  priorityUsernames?: string[];
  /** Serve only these of the backend's models (all of them when absent). */
  models?: string[];
  reporter?: WorkerReporter;
  timing?: Partial<WorkerTiming>;
  /** The `bridge_agent` sent with each pop. */
  bridgeAgent: string;
}

/** The fields of a pop answer the loop reads; image and text answers both have them. */
export interface PopAnswerBase {
  ids: string[];
  model?: string | null;
  ttl?: number | null;
  skipped: Record<string, number>;
  messages?: { id?: string; message: string }[];
}

/** What was submitted for one id, for the counters and rates. */
export interface DeliveredResult {
  faulted: boolean;
  megapixelsteps?: number;
  tokens?: number;
}

/** What a running job can do to the worker around it. */
export interface JobRun {
  readonly signal: AbortSignal;
  phase(phase: JobPhase): void;
  progress(fraction: number): void;
  /** Submits one id with retries and counts the outcome; returns it. */
  deliver(submit: () => Promise<number>, result: DeliveredResult): Promise<SubmitOutcome>;
  notice(level: NoticeLevel, message: string): void;
}

interface Running {
  view: JobView;
  promise: Promise<void>;
}

export abstract class WorkerNode<Answer extends PopAnswerBase> {
  abstract readonly kind: 'image' | 'text';
  abstract readonly backendKind: string;

  protected readonly api: HordeApi;
  protected readonly options: CommonWorkerOptions;
  protected readonly timing: WorkerTiming;
  protected models: string[] = [];

  #state: WorkerState = 'starting';
  #pausedUntil = 0;
  #pauseReason: string | undefined;
  #running = new Map<string, Running>();
  #slotFreed: (() => void) | undefined;
  #stopping = new AbortController();
  #halting = new AbortController();
  #counts = { done: 0, faulted: 0, dropped: 0, kudos: 0 };
  #work = new RateWindow();
  #startedAt = Date.now();
  #popFailures = 0;
  #faultsInRow = 0;
  #lastSkipped = '';
  #seenMessages = new Set<string>();
  #modelsReadAt = 0;
  #loop: Promise<void> | undefined;

  constructor(options: CommonWorkerOptions) {
    this.options = options;
    this.api = options.api;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  get name(): string {
    return this.options.name;
  }

  get threads(): number {
    return Math.max(1, Math.floor(this.options.threads ?? 1));
  }

  /** The body of a pop, for the models served now. */
  protected abstract popBody(models: string[]): Record<string, unknown>;
  protected abstract pop(body: Record<string, unknown>): Promise<Answer>;
  /** The models the backend serves now (before `options.models` narrows them). */
  protected abstract backendModels(): Promise<string[]>;
  /** One line for the display: size and steps, or tokens; never the prompt. */
  protected abstract summarise(answer: Answer): string;
  /** Runs the job on the backend and delivers every id of it through `run.deliver` (faulted or not). */
  protected abstract execute(answer: Answer, run: JobRun): Promise<void>;
  /** Startup lines about the backend (what it cannot do). */
  protected abstract describe(): string[];

  /** Reads the models, says who the worker works for, and starts popping. */
  async start(): Promise<void> {
    for (const line of this.describe()) this.notice('info', line);
    await this.#refreshModels();
    try {
      const user = await this.api.findUser();
      this.notice(
        'info',
        `working for ${user.username} (${user.kudos.toLocaleString('en')} kudos) on ${this.api.base}`,
      );
    } catch (error) {
      // Not fatal: the pops that follow explain refusals, and a horde that is down may come back.
      this.notice('warn', `could not look up the key's owner: ${errorMessage(error)}`);
    }
    this.#state = 'running';
    this.#update();
    this.#loop = this.#run();
  }

  /**
   * Stops popping and resolves once every job in flight was submitted. `halt` aborts the jobs at once
   * instead (their results are not submitted).
   */
  async stop(options: { halt?: boolean } = {}): Promise<void> {
    if (options.halt) this.#halting.abort(new Error('the worker is exiting'));
    if (!this.#stopping.signal.aborted) {
      this.#stopping.abort();
      this.#setState(this.#running.size > 0 ? 'draining' : this.#state);
      this.#slotFreed?.();
    }
    await this.#loop;
  }

  snapshot(): WorkerSnapshot {
    const now = Date.now();
    const seconds = Math.max(1, Math.min(RATE_WINDOW_MS, now - this.#startedAt) / 1000);
    const work = this.#work.totals(now);
    return {
      name: this.name,
      kind: this.kind,
      backend: this.backendKind,
      state: this.#state,
      pausedUntil: this.#state === 'paused' ? this.#pausedUntil : undefined,
      pauseReason: this.#state === 'paused' ? this.#pauseReason : undefined,
      models: [...this.models],
      inFlight: [...this.#running.values()].map((job) => ({ ...job.view })),
      ...this.#counts,
      megapixelstepsPerSecond: work.megapixelsteps / seconds,
      tokensPerSecond: work.tokens / seconds,
      skipped: this.#lastSkipped || undefined,
    };
  }

  protected notice(level: NoticeLevel, message: string): void {
    this.options.reporter?.notice({ level, worker: this.name, message, at: Date.now() });
  }

  /** PUTs an image with the upload retry policy; throws once it gives up (the caller falls back to base64). */
  protected uploadWithRetry(url: string, bytes: Buffer, run: JobRun): Promise<void> {
    return withRetry(() => this.api.upload(url, bytes), this.timing.uploadRetry, {
      signal: this.#halting.signal,
      onRetry: (error, attempt, delayMs) =>
        run.notice('warn', `upload failed (${error.message}); retry ${attempt} in ${delayMs / 1000} s`),
    });
  }

  async #run(): Promise<void> {
    const stopping = this.#stopping.signal;
    while (!stopping.aborted) {
      const now = Date.now();
      if (this.#pausedUntil > now) {
        await this.#wait(this.#pausedUntil - now);
        if (!stopping.aborted) this.#setState('running');
        continue;
      }
      if (this.#running.size >= this.threads) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        continue;
      }
      if (now - this.#modelsReadAt >= this.timing.modelRefreshMs) await this.#refreshModels();
      let answer: Answer;
      try {
        answer = await this.pop(this.popBody(this.models));
        this.#popFailures = 0;
      } catch (error) {
        await this.#popFailed(error);
        continue;
      }
      this.#showMessages(answer.messages);
      if (answer.ids.length > 0) {
        this.#launch(answer);
        continue;
      }
      this.#noteSkipped(answer.skipped);
      await this.#wait(this.timing.idlePollMs);
    }
    while (this.#running.size > 0)
      await Promise.allSettled([...this.#running.values()].map((job) => job.promise));
    this.#setState('stopped');
  }

  #launch(answer: Answer): void {
    const id = answer.ids[0] ?? '';
    const view: JobView = {
      id,
      kind: this.kind,
      model: answer.model ?? '',
      summary: this.summarise(answer),
      phase: 'generating',
      startedAt: Date.now(),
    };
    const ttlMs =
      typeof answer.ttl === 'number' && answer.ttl > 0 ? answer.ttl * 1000 : Number.POSITIVE_INFINITY;
    const timeout = AbortSignal.timeout(Math.min(this.timing.jobTimeoutMs, ttlMs));
    const signal = AbortSignal.any([timeout, this.#halting.signal]);
    // A job counts as failed (towards the pause after faults in a row) unless a good result got through.
    let delivered = false;
    const run: JobRun = {
      signal,
      phase: (phase) => {
        view.phase = phase;
        if (phase !== 'generating') view.progress = undefined;
        this.#update();
      },
      progress: (fraction) => {
        view.progress = Math.min(1, Math.max(0, fraction));
        this.#update();
      },
      deliver: async (submit, result) => {
        const outcome = await submitWithRetry(submit, this.timing.submitRetry, {
          // Draining keeps retrying; only an exit at once gives up.
          signal: this.#halting.signal,
          onRetry: (error, attempt, delayMs) =>
            this.notice(
              'warn',
              `submit of ${shortId(id)} failed (${error.message}); retry ${attempt} in ${delayMs / 1000} s`,
            ),
        });
        this.#count(outcome, result);
        if (!result.faulted && (outcome.kind === 'accepted' || outcome.kind === 'duplicate'))
          delivered = true;
        return outcome;
      },
      notice: (level, message) => this.notice(level, message),
    };
    const promise = this.execute(answer, run)
      .catch((error: unknown) => {
        this.notice('error', `job ${shortId(id)} failed: ${errorMessage(error)}`);
      })
      .finally(() => {
        this.#running.delete(id);
        this.#afterJob(!delivered);
        this.#slotFreed?.();
        this.#update();
      });
    this.#running.set(id, { view, promise });
    this.#update();
  }

  #count(outcome: SubmitOutcome, result: DeliveredResult): void {
    if (outcome.kind === 'accepted') this.#counts.kudos += outcome.reward;
    if (outcome.kind === 'gave-up' || outcome.kind === 'dropped') {
      this.#counts.dropped += 1;
      this.notice('warn', `result not delivered: ${outcome.reason}`);
      return;
    }
    if (result.faulted) {
      this.#counts.faulted += 1;
      return;
    }
    this.#counts.done += 1;
    this.#work.add(Date.now(), { megapixelsteps: result.megapixelsteps ?? 0, tokens: result.tokens ?? 0 });
  }

  #afterJob(failed: boolean): void {
    if (!failed) {
      this.#faultsInRow = 0;
      return;
    }
    this.#faultsInRow += 1;
    if (this.#faultsInRow >= this.timing.faultsBeforePause && !this.#stopping.signal.aborted) {
      this.#faultsInRow = 0;
      this.#pause(
        this.timing.faultPauseMs,
        `${this.timing.faultsBeforePause} jobs failed in a row: check the backend; popping again in ` +
          `${Math.round(this.timing.faultPauseMs / 1000)} s`,
      );
    }
  }

  async #popFailed(error: unknown): Promise<void> {
    if (!(error instanceof HordeCallError)) {
      this.notice('error', `pop failed: ${errorMessage(error)}`);
      await this.#wait(this.timing.errorBackoffMs.initial);
      return;
    }
    if (error.failure === 'refused') {
      const refusal = explainPopRefusal(error, {
        worker: this.name,
        horde: this.api.base,
        models: this.models,
      });
      const pauseMs = refusal.pause === 'long' ? this.timing.longPauseMs : this.timing.shortPauseMs;
      this.#pause(pauseMs, refusal.message);
      return;
    }
    this.#popFailures += 1;
    const backoff = Math.min(
      this.timing.errorBackoffMs.initial * 2 ** (this.#popFailures - 1),
      this.timing.errorBackoffMs.max,
    );
    const wait = Math.max(backoff, (error.retryAfter ?? 0) * 1000);
    // Say it on the first failure and then only when the wait grows, not on every attempt.
    if (this.#popFailures === 1 || backoff < this.timing.errorBackoffMs.max) {
      this.notice('warn', `cannot pop: ${error.message}; trying again in ${Math.round(wait / 100) / 10} s`);
    }
    await this.#wait(wait);
  }

  #pause(ms: number, reason: string): void {
    this.#pausedUntil = Date.now() + ms;
    this.#pauseReason = reason;
    this.notice('error', reason);
    this.#setState('paused');
  }

  #noteSkipped(skipped: Record<string, number>): void {
    const summary = summariseSkipped(skipped);
    if (summary === this.#lastSkipped) return;
    this.#lastSkipped = summary;
    this.#update();
  }

  #showMessages(messages: PopAnswerBase['messages']): void {
    for (const message of messages ?? []) {
      const key = message.id ?? message.message;
      if (this.#seenMessages.has(key)) continue;
      this.#seenMessages.add(key);
      this.notice('info', `message from the horde: ${message.message}`);
    }
  }

  async #refreshModels(): Promise<void> {
    this.#modelsReadAt = Date.now();
    let available: string[];
    try {
      available = await this.backendModels();
    } catch (error) {
      this.notice('error', `cannot read the backend's models: ${errorMessage(error)}`);
      return;
    }
    const wanted = this.options.models;
    const models = wanted?.length ? available.filter((model) => wanted.includes(model)) : available;
    const missing = (wanted ?? []).filter((model) => !available.includes(model));
    if (missing.length > 0) this.notice('warn', `the backend does not have: ${missing.join(', ')}`);
    if (models.join('\n') !== this.models.join('\n')) {
      this.models = models;
      this.notice(
        models.length ? 'info' : 'error',
        `serving ${models.length ? models.join(', ') : 'no models'}`,
      );
      this.#update();
    }
  }

  /** Sleeps, waking early when the worker stops. */
  async #wait(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stopping.signal });
    } catch {
      // Stopped: the loop checks the signal.
    }
  }

  #setState(state: WorkerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#update();
  }

  #update(): void {
    this.options.reporter?.update(this.snapshot());
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
