/**
 * What a running worker shows its owner: a snapshot the display renders (live on a terminal) and
 * notices it prints as lines. The worker loop produces both; the display only reads them.
 */

export type JobPhase = 'downloading' | 'generating' | 'encoding' | 'uploading' | 'submitting';

export interface JobView {
  /** Horde job id (the first of a batch). */
  id: string;
  kind: 'image' | 'text';
  model: string;
  /** A short description: `512×512 · 30 steps · ×2` or `200 tokens`. Never the prompt. */
  summary: string;
  phase: JobPhase;
  /** 0–1 while generating, when the backend reports progress. */
  progress?: number;
  /** `Date.now()` when the job was popped. */
  startedAt: number;
}

export type WorkerState =
  | 'starting'
  | 'running'
  /** Popping is paused (errors in a row, maintenance, wrong credentials); `pausedUntil` says until when. */
  | 'paused'
  /** Stopping: no new pops, finishing what is in flight. */
  | 'draining'
  | 'stopped';

export interface WorkerSnapshot {
  /** The worker's name on the horde. */
  name: string;
  kind: 'image' | 'text';
  /** The backend kind (`a1111`, `koboldcpp`, `demo`, …). */
  backend: string;
  state: WorkerState;
  pausedUntil?: number;
  /** Why it is paused, as the action the owner should take. */
  pauseReason?: string;
  models: string[];
  inFlight: JobView[];
  /** Jobs submitted `ok` (or censored) and accepted. */
  done: number;
  /** Jobs submitted `faulted`. */
  faulted: number;
  /** Jobs the horde dropped (stale, aborted, already submitted) or that could not be submitted. */
  dropped: number;
  /** Kudos the horde reported for accepted submits. */
  kudos: number;
  /** Image workers: megapixelsteps per second over the last minute (0 for text workers). */
  megapixelstepsPerSecond: number;
  /** Text workers: tokens per second over the last minute (0 for image workers). */
  tokensPerSecond: number;
  /** The last summary of `skipped` reasons from empty pops, already phrased. */
  skipped?: string;
}

export type NoticeLevel = 'info' | 'warn' | 'error';

export interface Notice {
  level: NoticeLevel;
  /** The worker's name. */
  worker: string;
  /** One line, phrased for the owner. */
  message: string;
  at: number;
}

/** Where a worker reports what it does; the terminal display and the plain logger implement it. */
export interface WorkerReporter {
  notice(notice: Notice): void;
  /** Called whenever something in the snapshot changed (often: throttle rendering yourself). */
  update(snapshot: WorkerSnapshot): void;
}
