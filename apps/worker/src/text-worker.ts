/**
 * A text worker: pops with the fields the legacy worker and koboldcpp send, runs each id of the job on the
 * backend (Kobold payload passed through) and submits the text, or `faulted` when the backend failed.
 */
import type { TextBackend } from './backends/types.js';
import { shortId } from './display/format.js';
import type { TextPopAnswer } from './horde-api.js';
import { abortable } from './image-worker.js';
import { toTextJob } from './payload.js';
import { type CommonWorkerOptions, errorMessage, type JobRun, WorkerNode } from './worker.js';

export interface TextWorkerOptions extends CommonWorkerOptions {
  backend: TextBackend;
  /** Lower than the backend's limits if you want shorter jobs. */
  maxLength?: number;
  maxContextLength?: number;
}

/** Rough tokens in a text, for the tokens-per-second figure only. */
const CHARS_PER_TOKEN = 4;

export class TextWorker extends WorkerNode<TextPopAnswer> {
  readonly kind = 'text';
  readonly backendKind: string;
  readonly #backend: TextBackend;
  readonly #options: TextWorkerOptions;

  constructor(options: TextWorkerOptions) {
    super(options);
    this.#backend = options.backend;
    this.#options = options;
    this.backendKind = options.backend.kind;
  }

  get limits() {
    return {
      maxLength: Math.min(this.#options.maxLength ?? Number.MAX_SAFE_INTEGER, this.#backend.maxLength),
      maxContextLength: Math.min(
        this.#options.maxContextLength ?? Number.MAX_SAFE_INTEGER,
        this.#backend.maxContextLength,
      ),
    };
  }

  protected popBody(models: string[]): Record<string, unknown> {
    const options = this.#options;
    return {
      name: this.name,
      models,
      bridge_agent: options.bridgeAgent,
      max_length: this.limits.maxLength,
      max_context_length: this.limits.maxContextLength,
      softprompts: [],
      nsfw: options.nsfw ?? true,
      blacklist: options.blacklist ?? [],
      threads: this.threads,
      amount: Math.max(1, Math.floor(options.amount ?? 1)),
      require_upfront_kudos: options.requireUpfrontKudos ?? false,
      extra_slow_worker: options.extraSlowWorker ?? false,
      priority_usernames: options.priorityUsernames ?? [],
    };
  }

  protected pop(body: Record<string, unknown>): Promise<TextPopAnswer> {
    return this.api.popText(body);
  }

  protected backendModels(): Promise<string[]> {
    return this.#backend.models();
  }

  protected describe(): string[] {
    const { maxLength, maxContextLength } = this.limits;
    return [`text backend: ${this.#backend.kind} (up to ${maxLength} tokens, context ${maxContextLength})`];
  }

  protected summarise(answer: TextPopAnswer): string {
    const length = answer.payload?.max_length;
    const count = answer.ids.length > 1 ? ` · ×${answer.ids.length}` : '';
    return `${typeof length === 'number' ? length : '?'} tokens${count}`;
  }

  protected async execute(answer: TextPopAnswer, run: JobRun): Promise<void> {
    const job = toTextJob(answer, this.limits);
    for (const [index, id] of answer.ids.entries()) {
      run.phase('generating');
      const progress = (fraction: number) => run.progress((index + fraction) / answer.ids.length);
      let text: string;
      let metadata: { type: string; value: string; ref?: string }[] | undefined;
      try {
        const result = await abortable(
          this.#backend.generate({ ...job, id }, { signal: run.signal, progress }),
          run.signal,
        );
        text = result.text;
        metadata = result.metadata;
      } catch (error) {
        run.notice(
          'error',
          `job ${shortId(id)} failed on the backend: ${errorMessage(error)}; submitting it as faulted`,
        );
        run.phase('submitting');
        await run.deliver(() => this.api.submitText({ id, generation: 'faulted', state: 'faulted' }), {
          faulted: true,
        });
        continue;
      }
      run.phase('submitting');
      await run.deliver(
        () =>
          this.api.submitText({ id, generation: text, state: 'ok', gen_metadata: metadata?.slice(0, 50) }),
        { faulted: false, tokens: Math.ceil(text.length / CHARS_PER_TOKEN) },
      );
    }
  }
}
