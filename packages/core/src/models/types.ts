/**
 * Model reference and bridge capability data: facts about the world the engine prices and matches against.
 * Both are plain data with a built-in default (works offline) that a horde admin can replace or extend.
 */

/** Model families that change prices and the features a worker needs (spec §2.2 baseline multipliers). */
export type ImageBaseline =
  | 'stable_diffusion_1'
  | 'stable_diffusion_2'
  | 'stable_diffusion_xl'
  | 'stable_cascade'
  | 'flux_1'
  | 'qwen_image'
  | 'z_image';

export interface ImageModelRequirements {
  min_steps?: number;
  max_steps?: number;
  cfg_scale?: number;
  min_cfg_scale?: number;
  max_cfg_scale?: number;
  samplers?: string[];
  schedulers?: string[];
  clip_skip?: number;
}

export interface ImageModelInfo {
  name: string;
  baseline: ImageBaseline;
  /** Marked NSFW in the reference. */
  nsfw: boolean;
  /** An inpainting model (only takes inpainting jobs). */
  inpainting: boolean;
  /** ControlNet-style models that require a source image (`pix2pix`, `Stable Diffusion 2 Depth`). */
  requiresSourceImage: boolean;
  requirements: ImageModelRequirements;
}

export interface TextModelInfo {
  name: string;
  /** Parameter count in billions. */
  parametersB: number;
  /**
   * True when the size was read from the model's name (`…-13B…`) because the reference does not list it.
   * Upstream prices such a model as unknown; pricing decides what to do with the guess.
   */
  inferred?: boolean;
}

export interface ModelReference {
  /** The entry for an image model, or undefined when the reference does not know it. */
  image(name: string): ImageModelInfo | undefined;
  /**
   * The entry for a text model. Quantisation suffixes (`-Q4_K_M`…) and `::alias` suffixes are ignored;
   * a name the reference does not know is sized from its name (`…-13B…`) when it says, else undefined.
   */
  text(name: string): TextModelInfo | undefined;
  /** Every known image model (for `/status/models?model_state=known`). */
  imageModels(): ImageModelInfo[];
}

/** A capability the AI Horde's bridge table grants (`img2img`, `lora`, `r2`, `flux`, upscaler names…). */
export type BridgeCapability = string;

export interface BridgeAgent {
  name: string;
  /** Integer major version, or null when the version is not a number. */
  version: number | null;
  url: string;
  raw: string;
}

export interface BridgeProfile {
  agent: BridgeAgent;
  /** True when the bridge is in the capability table. */
  known: boolean;
  /** Whether capabilities were granted because `permissiveUnknownBridges` trusts declared flags. */
  permissive: boolean;
  capabilities: ReadonlySet<BridgeCapability>;
  /** Samplers the bridge can run with `karras: true` and with `karras: false`. */
  samplers: { karras: ReadonlySet<string>; plain: ReadonlySet<string> };
  /** Multiplier on generation rewards: 1 for current official bridges, 0.9 older official, 0.75 others. */
  rewardMultiplier: number;
  /** Text: the backend is in the validated list (full text rewards). */
  validatedTextBackend: boolean;
}
