/**
 * `POST /generate/text/async` and `POST /generate/text/submit`: the schema, then the KoboldAI-style
 * parameter rules with their own `rc` (spec §1.2), then normalisation (unique stop sequences, at most 5
 * worker ids, education accounts forced to trusted workers).
 */
import { HordeError } from '../errors.js';
import {
  type TextGenerateBody,
  TextGenerateSchema,
  type TextSubmitBody,
  TextSubmitSchema,
} from './schemas.js';
import {
  assertPromptNotBlank,
  checkCommonRequestRules,
  MAX_WORKER_IDS,
  parseWith,
  type ValidationContext,
} from './validate-common.js';

/** A full `sampler_order` names every one of KoboldAI's 7 samplers. */
const MIN_SAMPLER_ORDER = 7;
const MAX_STOP_SEQUENCES = 128;
const MAX_STOP_SEQUENCE_CHARS = 2000;

/**
 * Validates and normalises a text generate body, or throws `HordeError`. `ctx.maxPromptWords` is not
 * applied: upstream has no word limit for text, whose size is bounded by `max_context_length` instead.
 */
export function parseTextRequest(input: unknown, ctx: ValidationContext): TextGenerateBody {
  const body = parseWith(TextGenerateSchema, input, assertPromptNotBlank);
  checkCommonRequestRules(body, ctx);
  if ((body.extra_source_images?.length ?? 0) > 0) {
    throw new HordeError('InvalidExtraSourceImages.', 'Text requests do not accept extra source images.');
  }
  const { params } = body;
  if (params.max_length > params.max_context_length) {
    throw new HordeError('TokenOverflow', '`max_length` cannot be larger than `max_context_length`.', {
      details: { max_length: params.max_length, max_context_length: params.max_context_length },
    });
  }
  if (params.sampler_order !== undefined && new Set(params.sampler_order).size < MIN_SAMPLER_ORDER) {
    throw new HordeError(
      'MissingFullSamplerOrder',
      'When sending `sampler_order`, list all 7 samplers (at least 7 distinct entries).',
      { details: { distinct: new Set(params.sampler_order).size, min: MIN_SAMPLER_ORDER } },
    );
  }
  const stopSequence =
    params.stop_sequence === undefined ? undefined : uniqueStopSequences(params.stop_sequence);
  return {
    ...body,
    params: stopSequence === undefined ? params : { ...params, stop_sequence: stopSequence },
    workers: body.workers.slice(0, MAX_WORKER_IDS),
    ...(ctx.roles.education ? { trusted_workers: true } : {}),
  };
}

/** Validates a worker's text result. */
export function parseTextSubmit(input: unknown): TextSubmitBody {
  return parseWith(TextSubmitSchema, input);
}

/** De-duplicates (keeping first occurrences) and enforces the count and total-length limits. */
function uniqueStopSequences(sequences: string[]): string[] {
  const unique = [...new Set(sequences)];
  if (unique.length > MAX_STOP_SEQUENCES) {
    throw new HordeError('TooManyStopSequences', 'You can send at most 128 distinct stop sequences.', {
      details: { count: unique.length, max: MAX_STOP_SEQUENCES },
    });
  }
  // Counted in code points, as the public horde (Python) does.
  let chars = 0;
  for (const sequence of unique) {
    for (const _char of sequence) if (++chars > MAX_STOP_SEQUENCE_CHARS) break;
    if (chars > MAX_STOP_SEQUENCE_CHARS) break;
  }
  if (chars > MAX_STOP_SEQUENCE_CHARS) {
    throw new HordeError(
      'ExcessiveStopSequence',
      'Your stop sequences are too long: together they may hold at most 2000 characters.',
      { details: { max: MAX_STOP_SEQUENCE_CHARS } },
    );
  }
  return unique;
}
