// @hordekit/core — the embedded AI Horde engine: scheduler, kudos ledger, storage port.

export { createEmbeddedClient, summarizeAccount } from './client/embedded.js';
// the client interface chat adapters use
export * from './client/types.js';
export * from './clock.js';
export * from './config.js';
export type { AccountChanges, Credentials, RegisterOptions } from './engine/accounts.js';
export { AUTO_MAINTENANCE_MESSAGE } from './engine/failures.js';
export type { GenerateOptions, GenerateResult, GenerateWarning } from './engine/generate.js';
export {
  type ImagePeriodStat,
  type ImageStatsTotals,
  MODEL_STATES,
  type ModelState,
  type ModelStatsByPeriod,
  type TextPeriodStat,
  type TextStatsTotals,
} from './engine/generation-stats.js';
// the engine
export { createHorde, Horde, type HordeOptions } from './engine/horde.js';
export type { PopJob, PopResult } from './engine/pop.js';
export type { HordePerformance, ModelStatus } from './engine/stats.js';
export type { Generation, RequestCheck, RequestStatus } from './engine/status.js';
export type { SubmitResult } from './engine/submit.js';
export type { TransferOutcome, TransferRequest } from './engine/transfers.js';
export type { WorkerChanges, WorkerView } from './engine/workers.js';
// errors, configuration, time, ids
export * from './errors.js';
export * from './events/bus.js';
// events
export * from './events/types.js';
export * from './ids.js';
export * from './leadership.js';
export * from './ledger/money.js';
// pricing and rewards
export * from './ledger/pricing-image.js';
export * from './ledger/pricing-text.js';
export * from './ledger/rewards.js';
export * from './ledger/upfront.js';
export * from './models/baselines.js';
export * from './models/bridge-table.js';
export * from './models/bridges.js';
export * from './models/default-image-models.js';
export * from './models/default-text-models.js';
export * from './models/reference.js';
export * from './models/text-model-names.js';
// model reference and bridge capabilities
export * from './models/types.js';
// request schemas and validation (shared with the server's OpenAPI document)
export * from './requests/schemas.js';
export * from './requests/validate.js';
export { OrderedIndex } from './scheduler/ordered-index.js';
export * from './scheduler/payload.js';
export {
  compareQueueOrder,
  groupRejection,
  QueueIndex,
  type RequirementGroup,
} from './scheduler/queue-index.js';
// scheduling internals a driver or server may need
export * from './scheduler/requirements.js';

// the storage port
export * from './storage/types.js';
