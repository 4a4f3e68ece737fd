/**
 * From a validated configuration to running workers: one backend per section, one `ImageWorker` and/or
 * `TextWorker`, all sharing one horde client per key and URL.
 */
import { readFileSync } from 'node:fs';
import { createA1111Backend } from './backends/a1111.js';
import { createComfyUiBackend } from './backends/comfyui.js';
import { createDemoImageBackend } from './backends/demo-image.js';
import { createDemoTextBackend } from './backends/demo-text.js';
import { createKoboldBackend } from './backends/kobold.js';
import { createOpenAiCompletionsBackend } from './backends/openai-completions.js';
import { createOpenAiImagesBackend } from './backends/openai-images.js';
import type { ImageBackend, TextBackend } from './backends/types.js';
import { ConfigError, type ImageBackendConfig, type TextBackendConfig, type WorkerConfig } from './config.js';
import { HordeApi } from './horde-api.js';
import { DEFAULT_MAX_PIXELS, ImageWorker } from './image-worker.js';
import type { WorkerReporter } from './status.js';
import { TextWorker } from './text-worker.js';
import { BRIDGE_AGENT } from './version.js';
import type { WorkerTiming } from './worker.js';

export type Worker = ImageWorker | TextWorker;

/** Where each backend listens by default (its own default port). */
export const DEFAULT_BACKEND_URLS: Readonly<Record<string, string>> = {
  a1111: 'http://127.0.0.1:7860',
  comfyui: 'http://127.0.0.1:8188',
  'openai-images': 'https://api.openai.com',
  koboldcpp: 'http://127.0.0.1:5001',
  'openai-completions': 'http://127.0.0.1:8080',
};

/** Marks a demo worker as such in its name, so nobody mistakes its output for AI. */
export function demoName(name: string): string {
  return /demo/i.test(name) ? name : `${name} (demo, not AI)`;
}

export async function createImageBackend(config: ImageBackendConfig): Promise<ImageBackend> {
  const url = config.url ?? DEFAULT_BACKEND_URLS[config.backend] ?? '';
  const mapping = modelMap(config.models);
  switch (config.backend) {
    case 'a1111':
      return createA1111Backend({ url, models: mapping });
    case 'comfyui':
      return createComfyUiBackend({
        url,
        models: mapping,
        workflow: config.workflow ? readWorkflow(config.workflow) : undefined,
      });
    case 'openai-images': {
      if (!config.model) throw new ConfigError('image.model: name the backend model (for example dall-e-3)');
      return createOpenAiImagesBackend({
        url,
        apiKey: config.api_key,
        model: config.model,
        sizes: config.sizes,
      });
    }
    case 'demo':
      return createDemoImageBackend({ stepDelayMs: config.step_delay_ms });
  }
}

export async function createTextBackend(config: TextBackendConfig): Promise<TextBackend> {
  const url = config.url ?? DEFAULT_BACKEND_URLS[config.backend] ?? '';
  const limits = { maxLength: config.max_length, maxContextLength: config.max_context_length };
  switch (config.backend) {
    case 'koboldcpp':
      return createKoboldBackend({ url, hordeModel: config.horde_model, ...limits });
    case 'openai-completions':
      return createOpenAiCompletionsBackend({
        url,
        apiKey: config.api_key,
        model: config.model,
        hordeModel: config.horde_model,
        ...limits,
      });
    case 'demo':
      return createDemoTextBackend({ tokenDelayMs: config.token_delay_ms, ...limits });
  }
}

export interface CreateWorkersOptions {
  reporter?: WorkerReporter;
  timing?: Partial<WorkerTiming>;
  /** Overrides the backends the configuration names (tests, embedding). */
  imageBackend?: ImageBackend;
  textBackend?: TextBackend;
}

/** The workers a configuration asks for, not yet started. */
export async function createWorkers(
  config: WorkerConfig,
  options: CreateWorkersOptions = {},
): Promise<Worker[]> {
  const workers: Worker[] = [];
  const api = new HordeApi({ url: config.horde_url, apiKey: config.api_key, clientAgent: BRIDGE_AGENT });
  if (config.image) {
    const section = config.image;
    const backend = options.imageBackend ?? (await createImageBackend(section));
    const name = section.name ?? config.worker_name;
    workers.push(
      new ImageWorker({
        ...commonOptions(config, section, options),
        api,
        name: backend.kind === 'demo' ? demoName(name) : name,
        backend,
        maxPixels:
          section.max_pixels ?? (section.max_power ? section.max_power * 8 * 64 * 64 : DEFAULT_MAX_PIXELS),
        allowImg2img: section.allow_img2img,
        allowPainting: section.allow_painting,
        allowPostProcessing: section.allow_post_processing,
        allowLora: section.allow_lora,
        allowUnsafeIpaddr: section.allow_unsafe_ipaddr,
        limitMaxSteps: section.limit_max_steps,
      }),
    );
  }
  if (config.text) {
    const section = config.text;
    const backend = options.textBackend ?? (await createTextBackend(section));
    // A name is one kind of worker on the horde (PolymorphicNameConflict), so the text worker gets its own.
    const name = section.name ?? `${config.worker_name} (text)`;
    workers.push(
      new TextWorker({
        ...commonOptions(config, section, options),
        api,
        name: backend.kind === 'demo' ? demoName(name) : name,
        backend,
        maxLength: section.max_length,
        maxContextLength: section.max_context_length,
      }),
    );
  }
  return workers;
}

function commonOptions(
  config: WorkerConfig,
  section: ImageBackendConfig | TextBackendConfig,
  options: CreateWorkersOptions,
) {
  return {
    threads: section.threads,
    amount: section.amount,
    nsfw: section.nsfw,
    blacklist: section.blacklist,
    requireUpfrontKudos: section.require_upfront_kudos,
    extraSlowWorker: section.extra_slow_worker,
    priorityUsernames: section.priority_usernames,
    models: Array.isArray(section.models)
      ? section.models
      : section.models
        ? Object.keys(section.models)
        : undefined,
    reporter: options.reporter,
    timing: options.timing,
    bridgeAgent: BRIDGE_AGENT,
    name: config.worker_name,
  };
}

/** A `{horde name: backend name}` mapping; a plain list serves those backend models under their own names. */
function modelMap(models: ImageBackendConfig['models']): Record<string, string> | undefined {
  if (!models || Array.isArray(models)) return undefined;
  return models;
}

function readWorkflow(path: string): object {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch (error) {
    throw new ConfigError(
      `image.workflow: cannot read ${path} as JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
}
