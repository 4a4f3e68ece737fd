/**
 * The model reference: the engine's facts about image and text models (family, nsfw, inpainting,
 * requirements, text sizes). Built from plain data — the built-in defaults plus whatever the horde admin
 * supplies — and read-only once built.
 */
import { inferBaseline, normalizeBaseline } from './baselines.js';
import { DEFAULT_IMAGE_MODELS } from './default-image-models.js';
import { DEFAULT_TEXT_MODELS } from './default-text-models.js';
import { bareTextModelName, inferParametersFromName, stripModelAlias } from './text-model-names.js';
import type {
  ImageBaseline,
  ImageModelInfo,
  ImageModelRequirements,
  ModelReference,
  TextModelInfo,
} from './types.js';

/**
 * An image model entry as an admin (or upstream's `stable_diffusion.json`) writes it. Extra fields are
 * ignored, so upstream's entries can be passed as they are.
 */
export interface ImageModelInput {
  name: string;
  /**
   * Our baseline name or upstream's (`stable_diffusion_2_768`…). When absent or not one we know, it is
   * guessed from the model's name (see `inferBaseline`).
   */
  baseline?: string;
  /** @default false */
  nsfw?: boolean;
  /** @default true when the name contains "inpainting", else false */
  inpainting?: boolean;
  /** @default true for `pix2pix` and `Stable Diffusion 2 Depth`, else false */
  requiresSourceImage?: boolean;
  /** @default {} */
  requirements?: ImageModelRequirements | null;
}

export interface ModelReferenceOptions {
  /** Image models to add; an entry with the name of a built-in one replaces it. @default [] */
  image?: readonly ImageModelInput[];
  /** Text models to add; an entry with the name of a built-in one replaces it. @default [] */
  text?: readonly TextModelInfo[];
  /** Start from the built-in reference (`DEFAULT_IMAGE_MODELS`, `DEFAULT_TEXT_MODELS`). @default true */
  includeDefaults?: boolean;
}

/** Models that need a source image to run at all (spec §1.1 model-specific rules). */
const SOURCE_IMAGE_MODELS: ReadonlySet<string> = new Set(['pix2pix', 'Stable Diffusion 2 Depth']);

/**
 * Builds a model reference. Image lookups try the exact name, then the name ignoring case; an image name
 * the reference does not know is undefined (the engine decides whether to accept it).
 *
 * Text lookups first drop an `::alias` suffix, then try, in order: the exact name, the name ignoring case,
 * the name without quantisation suffix and backend prefix (`koboldcpp/…`), and the last path segment of
 * that (`org/Model` matches `other-org/Model`). A name still unknown is sized from its name (`…-13B…`)
 * and marked `inferred`, or is undefined when the name states no size.
 */
export function createModelReference(options: ModelReferenceOptions = {}): ModelReference {
  const includeDefaults = options.includeDefaults ?? true;
  const images = new Map<string, ImageModelInfo>();
  const imagesByLowerName = new Map<string, ImageModelInfo>();
  const imageInputs = [...(includeDefaults ? DEFAULT_IMAGE_MODELS : []), ...(options.image ?? [])];
  for (const input of imageInputs) {
    const info = toImageModelInfo(input);
    if (!info) continue;
    images.set(info.name, info);
    imagesByLowerName.set(info.name.toLowerCase(), info);
  }

  const text = new TextIndex();
  for (const entry of includeDefaults ? DEFAULT_TEXT_MODELS : []) text.add(entry);
  for (const entry of options.text ?? []) text.add(entry);

  return {
    image: (name) => images.get(name) ?? imagesByLowerName.get(name.toLowerCase()),
    text: (name) => text.find(name),
    imageModels: () => [...images.values()],
  };
}

/**
 * The family of an image model: the reference's entry when it has one, else a guess from the name (a
 * heuristic, see `inferBaseline`). Use it to price a job on a model the reference does not list.
 */
export function baselineOf(reference: ModelReference, name: string): ImageBaseline {
  return reference.image(name)?.baseline ?? inferBaseline(name);
}

function toImageModelInfo(input: ImageModelInput): ImageModelInfo | undefined {
  const name = input.name.trim();
  if (name === '') return undefined;
  const { samplers, schedulers, ...limits } = input.requirements ?? {};
  return Object.freeze({
    name,
    baseline:
      (input.baseline !== undefined ? normalizeBaseline(input.baseline) : undefined) ?? inferBaseline(name),
    nsfw: input.nsfw ?? false,
    inpainting: input.inpainting ?? /inpainting/i.test(name),
    requiresSourceImage: input.requiresSourceImage ?? SOURCE_IMAGE_MODELS.has(name),
    // Copied so that later changes to the caller's data do not reach the reference.
    requirements: Object.freeze({
      ...limits,
      ...(samplers ? { samplers: [...samplers] } : {}),
      ...(schedulers ? { schedulers: [...schedulers] } : {}),
    }),
  });
}

/** Text models indexed by every form of their name a worker might send. Later entries win. */
class TextIndex {
  private readonly exact = new Map<string, TextModelInfo>();
  private readonly lowerCase = new Map<string, TextModelInfo>();
  private readonly bare = new Map<string, TextModelInfo>();
  private readonly lastSegment = new Map<string, TextModelInfo>();

  add(entry: TextModelInfo): void {
    const name = entry.name.trim();
    if (name === '') return;
    if (!(Number.isFinite(entry.parametersB) && entry.parametersB > 0)) {
      throw new RangeError(`Text model "${name}" needs a positive parametersB`);
    }
    const info: TextModelInfo = Object.freeze({ name, parametersB: entry.parametersB });
    this.exact.set(name, info);
    this.lowerCase.set(name.toLowerCase(), info);
    this.bare.set(bareKey(name), info);
    this.lastSegment.set(lastSegmentKey(name), info);
  }

  find(requested: string): TextModelInfo | undefined {
    const name = stripModelAlias(requested);
    if (name === '') return undefined;
    const known =
      this.exact.get(name) ??
      this.lowerCase.get(name.toLowerCase()) ??
      this.bare.get(bareKey(name)) ??
      this.lastSegment.get(lastSegmentKey(name));
    if (known) return known;
    const parametersB = inferParametersFromName(name);
    return parametersB === undefined ? undefined : { name, parametersB, inferred: true };
  }
}

function bareKey(name: string): string {
  return bareTextModelName(name).toLowerCase();
}

function lastSegmentKey(name: string): string {
  const bare = bareKey(name);
  return bare.slice(bare.lastIndexOf('/') + 1);
}
