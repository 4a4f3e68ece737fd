/**
 * `POST /generate/pop` and `POST /generate/text/pop`: the schema, then the worker-name, priority-user and
 * model-list rules (spec §1.1, §1.2). Model lists come back cleaned: names cut to 100 characters,
 * de-duplicated, and (image) models the reference does not know dropped unless the owner may serve them.
 */
import { HordeError } from '../errors.js';
import type { ModelReference } from '../models/types.js';
import { type ImagePopBody, ImagePopSchema, type TextPopBody, TextPopSchema } from './schemas.js';
import { parseWith } from './validate-common.js';

/** What the engine knows about a worker's owner when it validates a pop. */
export interface PopValidationContext {
  /** The owner's roles (spec §2.7): `customizer` may serve unknown image models; `special` owner-only ones. */
  roles: { customizer: boolean; special: boolean };
  /** Decides which image model names are known. */
  models: ModelReference;
  /** The owner's `username#id`, matched against `name::alias` model suffixes. */
  ownerAlias: string;
  /**
   * Keep image models the reference does not know, for everyone. Community hordes serving their own
   * checkpoints turn this on; the public horde keeps it off.
   * @default false
   */
  acceptUnknownImageModels?: boolean;
}

const MAX_WORKER_NAME_LENGTH = 100;
const MAX_MODEL_NAME_LENGTH = 100;
/** Upstream reserves these words (any case, anywhere in the name; note `tpu` also matches "output"). */
const RESERVED_NAME_WORDS = /colab|tpu|google/i;
const PRIORITY_USERNAME = /^.+#\d+$/s;
const NO_VALID_MODELS = 'Unfortunately we cannot accept workers serving unrecognised models at this time.';

/** Validates an image worker's pop; `models` keeps only the names this owner may serve. */
export function parseImagePop(input: unknown, ctx: PopValidationContext): ImagePopBody {
  const body = parseWith(ImagePopSchema, input);
  checkWorkerIdentity(body);
  const names = cleanModelNames(body.models);
  const models = names.filter((name) => mayServeImageModel(name, ctx));
  if (models.length === 0) {
    throw new HordeError(
      'NoValidModels',
      `${NO_VALID_MODELS} Serve at least one model from this horde's model reference (listed by ` +
        'GET /api/v2/status/models?model_state=known), or ask a moderator for the customizer role.',
      { details: { rejected: names.slice(0, 20) } },
    );
  }
  return { ...body, models };
}

/** Validates a text worker's pop: any model name is accepted, but there must be one. */
export function parseTextPop(input: unknown, ctx: PopValidationContext): TextPopBody {
  const body = parseWith(TextPopSchema, input);
  checkWorkerIdentity(body);
  const models = cleanModelNames(body.models);
  if (models.length === 0) {
    throw new HordeError(
      'NoValidModels',
      `${NO_VALID_MODELS} A text worker must name the model it serves in \`models\` ` +
        '(for example the name your backend reports).',
    );
  }
  for (const name of models) {
    const alias = ownerSuffix(name);
    if (alias !== undefined && alias !== ctx.ownerAlias) throw ownerOnlyModel(name);
  }
  return { ...body, models };
}

function checkWorkerIdentity(body: { name: string; priority_usernames: string[] }): void {
  if (body.name.length > MAX_WORKER_NAME_LENGTH) {
    throw new HordeError('TooLongWorkerName', 'The worker name can be at most 100 characters long.', {
      details: { length: body.name.length, max: MAX_WORKER_NAME_LENGTH },
    });
  }
  if (RESERVED_NAME_WORDS.test(body.name)) {
    throw new HordeError(
      'ProfaneWorkerName',
      'Worker names containing "colab", "tpu" or "google" are reserved; choose a different name.',
    );
  }
  const bad = body.priority_usernames.findIndex((alias) => !PRIORITY_USERNAME.test(alias));
  if (bad !== -1) {
    throw new HordeError(
      'InvalidPriorityUsername',
      'Each `priority_usernames` entry must be a user alias in the form `username#id`.',
      { details: { index: bad } },
    );
  }
}

/** Cut to 100 characters, then de-duplicated in order. */
function cleanModelNames(models: string[]): string[] {
  return [...new Set(models.map((name) => name.slice(0, MAX_MODEL_NAME_LENGTH)))];
}

/** The `alias` of a `name::alias` model, or undefined when the name has no single owner suffix. */
function ownerSuffix(name: string): string | undefined {
  const parts = name.split('::');
  return parts.length === 2 ? parts[1] : undefined;
}

function ownerOnlyModel(model: string): HordeError {
  return new HordeError(
    'BadRequest',
    'A model named `name::alias` can only be served by the user with that alias; remove the suffix or ' +
      "use that user's API key.",
    { details: { model } },
  );
}

function mayServeImageModel(name: string, ctx: PopValidationContext): boolean {
  if (ctx.roles.special) {
    const alias = ownerSuffix(name);
    if (alias !== undefined) {
      if (alias !== ctx.ownerAlias) throw ownerOnlyModel(name);
      return true;
    }
  }
  return (
    ctx.acceptUnknownImageModels === true || ctx.roles.customizer || ctx.models.image(name) !== undefined
  );
}
