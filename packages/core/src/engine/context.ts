/** What every engine module works with; built once by `createHorde`. */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { HordeConfig } from '../config.js';
import type { EventBus } from '../events/bus.js';
import type { ModelReference } from '../models/types.js';
import type { HordeStore, WorkerRecord } from '../storage/types.js';
import type { LoadTracker } from './load.js';
import type { MatchingWorker } from './worker-profile.js';

export interface EngineContext {
  store: HordeStore;
  clock: Clock;
  config: HordeConfig;
  models: ModelReference;
  events: EventBus;
  logger: Logger;
  load: LoadTracker;
  /** Uniform in [0, 1): seeds and model choice. */
  random: () => number;
  apiKeyPepper: string;
  /** Matchers of online workers, per immutable worker record (see `engine/possible.ts`). */
  matchers: WeakMap<WorkerRecord, MatchingWorker | null>;
}
