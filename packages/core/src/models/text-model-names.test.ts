import { describe, expect, it } from 'vitest';
import {
  bareTextModelName,
  inferParametersFromName,
  stripBackendPrefix,
  stripModelAlias,
  stripQuantisationSuffix,
} from './text-model-names.js';

describe('text model names', () => {
  it('drops an alias suffix', () => {
    expect(stripModelAlias('koboldcpp/Model-7B::someone#12')).toBe('koboldcpp/Model-7B');
    expect(stripModelAlias('Model-7B')).toBe('Model-7B');
  });

  it('drops quantisation suffixes', () => {
    const cases: [string, string][] = [
      ['Mistral-7B-Instruct-v0.2-Q4_K_M', 'Mistral-7B-Instruct-v0.2'],
      ['Mistral-7B-Instruct-v0.2.Q5_K_S', 'Mistral-7B-Instruct-v0.2'],
      ['Model-13B-GGUF', 'Model-13B'],
      ['Model-13B-GGUF-Q8_0', 'Model-13B'],
      ['Model-13B-IQ4_XS', 'Model-13B'],
      ['Model-13B-AWQ', 'Model-13B'],
      ['Model-13B-GPTQ', 'Model-13B'],
      ['Model-13B-exl2-4.65bpw-h6', 'Model-13B'],
      ['Model-13B_fp16', 'Model-13B'],
      ['Model-13B-bf16', 'Model-13B'],
      ['Model-13B-8bit', 'Model-13B'],
      ['Qwen2.5-7B-Instruct', 'Qwen2.5-7B-Instruct'],
      ['Mistral-7B-Instruct-v0.2', 'Mistral-7B-Instruct-v0.2'],
      ['GGUF', 'GGUF'],
    ];
    for (const [name, stripped] of cases) expect(stripQuantisationSuffix(name), name).toBe(stripped);
  });

  it('drops only known backend prefixes', () => {
    expect(stripBackendPrefix('koboldcpp/Model-7B')).toBe('Model-7B');
    expect(stripBackendPrefix('aphrodite/NeverSleep/Model-8B')).toBe('NeverSleep/Model-8B');
    expect(stripBackendPrefix('NeverSleep/Model-8B')).toBe('NeverSleep/Model-8B');
    expect(bareTextModelName('koboldcpp/Model-7B-Q4_K_M::a#1')).toBe('Model-7B');
  });

  it('reads sizes from names', () => {
    const cases: [string, number | undefined][] = [
      ['koboldcpp/LLaMA2-13B-Psyfighter2', 13],
      ['mistral-7b-instruct', 7],
      ['Llama-3-70B', 70],
      ['Mixtral-8x7B-Instruct', 56],
      ['Qwen2.5-1.5B-Instruct', 1.5],
      ['Qwen2.5-0.5B', 0.5],
      ['SmolLM-135M', 0.135],
      ['koboldcpp/Mistral-7B-Instruct-v0.2-Q4_K_M::someone#12', 7],
      ['Llama-2-13b-chat-GGUF', 13],
      ['GPT-J', undefined],
      ['Model-v2-32k', undefined],
      ['llama3', undefined],
      ['Model-0B', undefined],
    ];
    for (const [name, size] of cases) expect(inferParametersFromName(name), name).toBe(size);
  });
});
