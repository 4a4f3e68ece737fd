/**
 * Text model names as workers send them: `backend/org/Model-13B-v2-Q4_K_M::owner#12`. These helpers peel
 * off the parts that do not change what the model is, and read a size from the name when nothing else
 * knows it.
 */

/**
 * Drops an `::alias` suffix. The legacy worker's "branded model" option sends `model::horde_username`; the
 * model is the same whoever runs it.
 */
export function stripModelAlias(name: string): string {
  const at = name.indexOf('::');
  return (at === -1 ? name : name.slice(0, at)).trim();
}

/**
 * One quantisation or packaging suffix, after a `-`, `_` or `.`: GGUF quant types (`Q4_K_M`, `Q8_0`,
 * `IQ4_XS`), container and method names (`GGUF`, `GGML`, `AWQ`, `GPTQ`, `exl2`), bits per weight
 * (`4.0bpw`, `8bit`), exl2 head bits (`h6`) and precisions (`fp16`, `bf16`, `int4`…).
 */
const QUANT_SUFFIX =
  /[-_.](?:i?q\d(?:_[a-z0-9]{1,2})*|gguf|ggml|awq|gptq|exl2|\d+(?:\.\d+)?bpw|h[68]|[2-8]bit|fp(?:8|16|32)|bf16|f(?:16|32)|int[48])$/i;

/** Drops quantisation suffixes, repeatedly (`Model-GGUF-Q5_K_S` → `Model`, `Model-exl2-4.0bpw` → `Model`). */
export function stripQuantisationSuffix(name: string): string {
  let current = name.trim();
  for (;;) {
    const next = current.replace(QUANT_SUFFIX, '');
    if (next === current || next === '') return current;
    current = next;
  }
}

/** Backend prefixes workers put before the model's own name (`koboldcpp/…`, `aphrodite/…`). */
export const TEXT_BACKEND_PREFIXES: readonly string[] = [
  'koboldcpp',
  'aphrodite',
  'tabbyapi',
  'vllm',
  'llamacpp',
  'llama.cpp',
  'ollama',
  'oobabooga',
  'sglang',
];

/** Drops a known backend prefix (`koboldcpp/Mistral-7B` → `Mistral-7B`); other names are returned as-is. */
export function stripBackendPrefix(name: string): string {
  const slash = name.indexOf('/');
  if (slash === -1) return name;
  const prefix = name.slice(0, slash).toLowerCase();
  return TEXT_BACKEND_PREFIXES.includes(prefix) ? name.slice(slash + 1) : name;
}

/** The name with alias, quantisation and backend prefix removed: the model itself. */
export function bareTextModelName(name: string): string {
  return stripBackendPrefix(stripQuantisationSuffix(stripModelAlias(name)));
}

// A size token stands alone: not preceded by a letter, digit or dot, not followed by a letter or digit.
const MOE_SIZE = /(?<![a-z0-9.])(\d+)x(\d+(?:\.\d+)?)b(?![a-z0-9])/i;
const BILLIONS = /(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])/i;
const MILLIONS = /(?<![a-z0-9.])(\d+(?:\.\d+)?)m(?![a-z0-9])/i;

/**
 * The parameter count (billions) a name states, or undefined. `13B`, `7b`, `1.5B` read as written;
 * `135M` as 0.135. Mixture-of-experts names count every expert: `8x7B` reads as 56, although such a model
 * really has fewer parameters (Mixtral 8x7B has 46.7B) — list the real size in the reference when it
 * matters. The first size token wins.
 */
export function inferParametersFromName(name: string): number | undefined {
  const bare = stripQuantisationSuffix(stripModelAlias(name));
  const moe = MOE_SIZE.exec(bare);
  if (moe) return positive(Number(moe[1]) * Number(moe[2]));
  const billions = BILLIONS.exec(bare);
  if (billions) return positive(Number(billions[1]));
  const millions = MILLIONS.exec(bare);
  if (millions) return positive(Number(millions[1]) / 1000);
  return undefined;
}

function positive(value: number): number | undefined {
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
