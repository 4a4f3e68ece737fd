/**
 * @hordekit/worker: a worker node for any AI Horde v2 server. `createWorkers(loadConfig())` is what the
 * CLI runs; `ImageWorker` / `TextWorker` with a backend embed a worker in another process (the community
 * horde runs its demo worker this way).
 */
export { createA1111Backend } from './backends/a1111.js';
export { createComfyUiBackend } from './backends/comfyui.js';
export { createDemoImageBackend, DEMO_IMAGE_MODEL } from './backends/demo-image.js';
export { createDemoTextBackend, DEMO_TEXT_MODEL } from './backends/demo-text.js';
export { createKoboldBackend } from './backends/kobold.js';
export { createOpenAiCompletionsBackend } from './backends/openai-completions.js';
export { createOpenAiImagesBackend } from './backends/openai-images.js';
export * from './backends/types.js';
export { ConfigError, loadConfig, type WorkerConfig } from './config.js';
export { createImageBackend, createTextBackend, createWorkers, demoName, type Worker } from './create.js';
export { createPlainReporter } from './display/plain.js';
export { createTerminalDisplay } from './display/terminal.js';
export { HordeApi, HordeCallError, normaliseHordeUrl } from './horde-api.js';
export { ImageWorker, type ImageWorkerOptions } from './image-worker.js';
export { isWebp, toWebp } from './images.js';
export { summariseSkipped } from './messages.js';
export type * from './status.js';
export type { SubmitOutcome } from './submit.js';
export { TextWorker, type TextWorkerOptions } from './text-worker.js';
export { BRIDGE_AGENT, WORKER_VERSION } from './version.js';
export { DEFAULT_TIMING, type WorkerTiming } from './worker.js';
