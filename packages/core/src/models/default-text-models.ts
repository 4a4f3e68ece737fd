/**
 * Built-in text model sizes: popular models on the public AI Horde, named as workers announce them. Plain
 * data; `createModelReference({ text })` adds to or overrides it. Sizes are the models' published
 * parameter counts in billions (rounded to the nearest billion where the model card rounds them), which
 * is what upstream's text model reference stores as `parameters / 1e9`.
 *
 * Mixtral's 46.7 is listed so that it does not fall back to the name-based guess (`8x7B` → 56).
 */
import type { TextModelInfo } from './types.js';

export const DEFAULT_TEXT_MODELS: readonly TextModelInfo[] = [
  { name: 'koboldcpp/LLaMA2-13B-Psyfighter2', parametersB: 13 },
  { name: 'KoboldAI/LLaMA2-13B-Tiefighter', parametersB: 13 },
  { name: 'Gryphe/MythoMax-L2-13b', parametersB: 13 },
  { name: 'aphrodite/NeverSleep/Llama-3-Lumimaid-8B-v0.1', parametersB: 8 },
  { name: 'aphrodite/Sao10K/L3-8B-Stheno-v3.2', parametersB: 8 },
  { name: 'elinas/chronos-70b-v2', parametersB: 70 },
  { name: 'koboldcpp/Mistral-7B-Instruct-v0.2', parametersB: 7 },
  { name: 'mistralai/Mixtral-8x7B-Instruct-v0.1', parametersB: 46.7 },
  { name: 'koboldcpp/Mistral-Nemo-Instruct-2407', parametersB: 12 },
  { name: 'mistralai/Mistral-Small-24B-Instruct-2501', parametersB: 24 },
  { name: 'meta-llama/Meta-Llama-3-8B-Instruct', parametersB: 8 },
  { name: 'meta-llama/Meta-Llama-3-70B-Instruct', parametersB: 70 },
  { name: 'koboldcpp/Fimbulvetr-11B-v2', parametersB: 10.7 },
  { name: 'TheDrummer/Cydonia-22B-v1', parametersB: 22 },
  { name: 'Qwen/Qwen2.5-32B-Instruct', parametersB: 32 },
];
