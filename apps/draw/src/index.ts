// The flow: queue, wait, save.

// The command line.
export {
  ANONYMOUS_KEY,
  apiRoot,
  DEFAULT_HORDE,
  type DrawEnvironment,
  type DrawOptions,
  type ParsedCommand,
  parseDrawArgs,
  USAGE,
  UsageError,
} from './args.js';
// The horde client.
export {
  type AsyncAnswer,
  type CheckAnswer,
  createHordeClient,
  type Generation,
  HordeApiError,
  type HordeClient,
  type HordeClientOptions,
  HordeConnectionError,
  type StatusAnswer,
} from './client.js';
export {
  CLIENT_AGENT,
  DrawError,
  type DrawIo,
  draw,
  NO_WORKER,
  NO_WORKER_EXPLANATION,
  requestBody,
} from './draw.js';

// Display and files.
export {
  createProgress,
  type DrawOutput,
  describeCheck,
  formatSeconds,
  type ProgressDisplay,
} from './progress.js';
export { outputPaths, slugify, webpSize } from './save.js';
