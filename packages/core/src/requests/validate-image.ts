/**
 * `POST /generate/async` and `POST /generate/submit`: the schema, then the cross-field rules the public
 * horde enforces with their own `rc` (spec §1.1), then the normalisation it applies silently (default steps,
 * at most 5 worker ids, `shared` off, education accounts forced safe).
 */
import { HordeError } from '../errors.js';
import type { ImageBaseline } from '../models/types.js';
import {
  type ImageGenerateBody,
  ImageGenerateSchema,
  type ImageParams,
  type ImageSubmitBody,
  ImageSubmitSchema,
  POST_PROCESSORS,
  UPSCALERS,
} from './schemas.js';
import {
  assertPromptNotBlank,
  checkCommonRequestRules,
  countWords,
  MAX_WORKER_IDS,
  parseWith,
  type ValidationContext,
  validationError,
} from './validate-common.js';

/** A validated image request: `params.steps` is always resolved. Assignable to `ImageGenerateBody`. */
export type ParsedImageRequest = Omit<ImageGenerateBody, 'params'> & {
  params: ImageParams & { steps: number };
};

const MAX_LORAS = 5;
const MAX_TIS = 20;
const MAX_EXTRA_SOURCE_IMAGES = 5;
const DEFAULT_STEPS = 30;
const DEFAULT_CONTROLNET_STEPS = 20;
/** Upstream caps ControlNet steps silently instead of rejecting. */
const MAX_CONTROLNET_STEPS = 40;
const SPECIAL_MODEL_PREFIX = 'horde_special';

const UPSCALER_NAMES: ReadonlySet<string> = new Set(UPSCALERS);
const POST_PROCESSOR_NAMES: ReadonlySet<string> = new Set(POST_PROCESSORS);
const CONTROLNET_INCOMPATIBLE: ReadonlySet<ImageBaseline> = new Set<ImageBaseline>([
  'stable_diffusion_xl',
  'stable_cascade',
  'flux_1',
  'qwen_image',
  'z_image',
]);
const HIRES_FIX_INCOMPATIBLE: ReadonlySet<ImageBaseline> = new Set<ImageBaseline>([
  'flux_1',
  'qwen_image',
  'z_image',
]);

/** Validates and normalises an image generate body, or throws `HordeError`. */
export function parseImageRequest(input: unknown, ctx: ValidationContext): ParsedImageRequest {
  const body = parseWith(ImageGenerateSchema, input, assertPromptNotBlank);
  checkCommonRequestRules(body, ctx);
  checkExtraSourceImages(body, ctx);
  const words = countWords(body.prompt, ctx.maxPromptWords);
  if (words > ctx.maxPromptWords) {
    throw new HordeError('InvalidPromptSize', 'The prompt has too many words; shorten it.', {
      details: { maxWords: ctx.maxPromptWords },
    });
  }
  checkSpecial(body, ctx);
  checkModels(body, ctx);
  checkParams(body.params);
  return normalise(body, ctx);
}

/** Validates a worker's image result. */
export function parseImageSubmit(input: unknown): ImageSubmitBody {
  return parseWith(ImageSubmitSchema, input);
}

function checkExtraSourceImages(body: ImageGenerateBody, ctx: ValidationContext): void {
  const count = body.extra_source_images?.length ?? 0;
  if (count === 0) return;
  if (count > MAX_EXTRA_SOURCE_IMAGES) {
    throw new HordeError('TooManyExtraSourceImages.', 'You can send at most 5 extra source images.', {
      details: { count, max: MAX_EXTRA_SOURCE_IMAGES },
    });
  }
  if (body.source_processing !== 'remix') {
    throw new HordeError(
      'InvalidExtraSourceImages.',
      'Extra source images are only accepted with `source_processing: "remix"`.',
    );
  }
  if (count > 1 && !ctx.roles.trusted) {
    throw new HordeError('RequiresTrust', 'Only trusted users may send more than one extra source image.', {
      details: { count },
    });
  }
}

/**
 * `params.special` and `horde_special::…` models are for `special` users. Upstream raises these with the
 * generic rcs (its specific rc is passed where the constructor expects a log line): `BadRequest` for the
 * field, `Forbidden` for the model.
 */
function checkSpecial(body: ImageGenerateBody, ctx: ValidationContext): void {
  if (ctx.roles.special) return;
  if (body.params.special !== undefined) {
    throw new HordeError('BadRequest', 'Only special users can send `params.special`.');
  }
  const model = body.models.find((name) => name.includes(SPECIAL_MODEL_PREFIX));
  if (model !== undefined) {
    throw new HordeError('Forbidden', 'Only special users can request a horde_special model.', {
      details: { model },
    });
  }
}

function checkModels(body: ImageGenerateBody, ctx: ValidationContext): void {
  const postProcessor = body.models.find((name) => POST_PROCESSOR_NAMES.has(name));
  if (postProcessor !== undefined) {
    throw new HordeError(
      'UnexpectedModelName',
      'A post-processor is not a generation model: put it in `params.post_processing` instead of `models`.',
      { details: { model: postProcessor } },
    );
  }
  if (body.source_mask !== undefined && body.source_image === undefined) {
    throw new HordeError('SourceMaskUnnecessary', 'A `source_mask` needs a `source_image` to apply to.');
  }
  const infos = body.models.map((name) => ({ name, info: ctx.models.image(name) }));
  if (body.source_image === undefined) {
    const needsImage = infos.find(({ info }) => info?.requiresSourceImage === true);
    if (needsImage !== undefined) {
      throw new HordeError('SourceImageRequiredForModel', 'This model needs a `source_image`.', {
        details: { model: needsImage.name },
      });
    }
  }
  const { control_type, hires_fix } = body.params;
  if (control_type !== undefined) {
    if (body.source_image === undefined) {
      throw new HordeError('ControlNetSourceMissing', 'ControlNet (`control_type`) needs a `source_image`.');
    }
    if (body.source_processing === 'inpainting' || body.source_processing === 'outpainting') {
      throw new HordeError(
        'ControlNetInpaintingMismatch',
        'ControlNet cannot be combined with inpainting or outpainting.',
        { details: { source_processing: body.source_processing } },
      );
    }
    const mismatch = infos.find(
      ({ info }) => info !== undefined && CONTROLNET_INCOMPATIBLE.has(info.baseline),
    );
    if (mismatch !== undefined) {
      throw new HordeError(
        'ControlNetMismatch',
        'ControlNet does not work with SDXL, Stable Cascade, Flux, Qwen-Image or Z-Image models.',
        { details: { model: mismatch.name, baseline: mismatch.info?.baseline } },
      );
    }
  }
  if (hires_fix) {
    const mismatch = infos.find(
      ({ info }) => info !== undefined && HIRES_FIX_INCOMPATIBLE.has(info.baseline),
    );
    if (mismatch !== undefined) {
      throw new HordeError(
        'HiResMismatch',
        'hires_fix does not work with Flux, Qwen-Image or Z-Image models.',
        {
          details: { model: mismatch.name, baseline: mismatch.info?.baseline },
        },
      );
    }
  }
  if (body.source_processing === 'remix') {
    // Only models the reference knows can be ruled out; unknown ones get the benefit of the doubt.
    const notCascade = infos.find(({ info }) => info !== undefined && info.baseline !== 'stable_cascade');
    if (notCascade !== undefined) {
      throw new HordeError('InvalidRemix', 'Image remix is only available for Stable Cascade models.', {
        details: { model: notCascade.name },
      });
    }
  }
}

function checkParams(params: ImageParams): void {
  if (params.loras.length > MAX_LORAS) {
    throw new HordeError('TooManyLoras', 'You cannot request more than 5 LoRAs per generation.', {
      details: { count: params.loras.length, max: MAX_LORAS },
    });
  }
  const badVersion = params.loras.findIndex((lora) => lora.is_version && !/^\d+$/.test(lora.name));
  if (badVersion !== -1) {
    throw new HordeError(
      'BadLoraVersion',
      'A LoRA with `is_version: true` must be named by its numeric CivitAI version id.',
      { details: { index: badVersion } },
    );
  }
  if (params.tis.length > MAX_TIS) {
    throw new HordeError('TooManyTIs', 'You cannot request more than 20 textual inversions per generation.', {
      details: { count: params.tis.length, max: MAX_TIS },
    });
  }
  if (new Set(params.post_processing).size !== params.post_processing.length) {
    throw validationError({ 'params.post_processing': 'has non-unique elements' });
  }
  const upscalers = params.post_processing.filter((name) => UPSCALER_NAMES.has(name));
  if (upscalers.length > 1) {
    throw new HordeError('TooManyUpscalers', 'You can use at most one upscaler per request.', {
      details: { upscalers },
    });
  }
  if (Number(params.cfg_scale.toFixed(2)) !== params.cfg_scale) {
    throw new HordeError('BadCFGDecimals', '`cfg_scale` can have at most 2 decimal places.', {
      details: { cfg_scale: params.cfg_scale },
    });
  }
}

/** Default steps (30, or 20 with ControlNet); ControlNet steps are capped to 40 without an error. */
function resolveSteps(params: ImageParams): number {
  if (params.control_type === undefined) return params.steps ?? DEFAULT_STEPS;
  return Math.min(params.steps ?? DEFAULT_CONTROLNET_STEPS, MAX_CONTROLNET_STEPS);
}

function normalise(body: ImageGenerateBody, ctx: ValidationContext): ParsedImageRequest {
  const params = { ...body.params, steps: resolveSteps(body.params) };
  // Without a source image there is nothing to denoise; upstream ignores the field, we drop it.
  if (body.source_image === undefined) delete params.denoising_strength;
  return {
    ...body,
    params,
    workers: body.workers.slice(0, MAX_WORKER_IDS),
    // Upstream overwrites `shared` to false unless the retired `SDXL_beta` model is requested.
    shared: false,
    ...(ctx.roles.education ? { nsfw: false, censor_nsfw: true, trusted_workers: true } : {}),
  };
}
