/**
 * The response shapes of the OpenAPI document, written from the wire reference (spec §1), and the named
 * schemas (`components.schemas`) — request bodies are the engine's own zod schemas.
 */
import {
  AccountChangesSchema,
  ExtraSourceImageSchema,
  GENERATION_STATES,
  GenMetadataSchema,
  ImageGenerateSchema,
  ImageParamsSchema,
  ImagePopSchema,
  ImageSubmitSchema,
  LoraSchema,
  TextGenerateSchema,
  TextParamsSchema,
  TextPopSchema,
  TextSubmitSchema,
  TextualInversionSchema,
  TransferSchema,
  WorkerChangesSchema,
} from '@hordekit/core';
import { z } from 'zod';

export const numbers = (...keys: string[]) =>
  z.object(Object.fromEntries(keys.map((key) => [key, z.number()])));
export const booleans = (...keys: string[]) => Object.fromEntries(keys.map((key) => [key, z.boolean()]));
export const maybeBooleans = (...keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, z.boolean().optional()]));

export const ErrorSchema = z
  .object({
    message: z.string().describe('A sentence for people.'),
    rc: z.string().describe('The return code.'),
  })
  .describe('Every error the horde raises.');

export const ValidationErrorSchema = z
  .object({
    message: z.literal('Input payload validation failed'),
    rc: z.literal('ValidationError'),
    errors: z.record(z.string(), z.string()).describe('Field path → reason.'),
  })
  .describe('A body, query or header that does not match the schema (flask-restx shape, plus `rc`).');

export const WarningSchema = z.object({
  code: z.string().describe('`NoAvailableWorker`, `ClipSkipMismatch`, `StepsTooFew`, `SamplerMismatch`…'),
  message: z.string(),
});

export const RequestAsyncSchema = z.object({
  id: z.string().describe('The request id: poll it, stream it or cancel it.'),
  kudos: z.number().describe('Per-image kudos of the request (0 for text, as upstream).'),
  message: z.string().optional(),
  warnings: z.array(WarningSchema).optional(),
});

export const KudosEstimateSchema = z.object({ kudos: z.number().describe('What the request would cost.') });

export const RequestStatusCheckSchema = z.object({
  finished: z.number().int(),
  processing: z.number().int(),
  restarted: z.number().int(),
  waiting: z.number().int(),
  done: z.boolean(),
  faulted: z.boolean(),
  wait_time: z.number().int().describe('Seconds, estimated.'),
  queue_position: z.number().int(),
  kudos: z.number(),
  is_possible: z.boolean(),
});

export const generationCommon = {
  id: z.string().describe('The job id.'),
  worker_id: z.string(),
  worker_name: z.string(),
  model: z.string(),
  state: z.enum(GENERATION_STATES),
  gen_metadata: z.array(GenMetadataSchema),
};

export const ImageGenerationSchema = z.object({
  img: z
    .string()
    .describe('A signed download URL when the request had `r2: true`, else base64 WebP; `N/A` if lost.'),
  seed: z.string(),
  censored: z.boolean(),
  ...generationCommon,
});

export const TextGenerationSchema = z.object({
  text: z.string(),
  seed: z.number().int(),
  ...generationCommon,
});

export const RequestStatusStableSchema = RequestStatusCheckSchema.extend({
  generations: z.array(ImageGenerationSchema),
  shared: z.boolean(),
});

export const RequestStatusKoboldSchema = RequestStatusCheckSchema.extend({
  generations: z.array(TextGenerationSchema),
});

export const WorkerMessageSchema = z.object({
  id: z.string(),
  message: z.string(),
  origin: z.string(),
  expiry: z.string().describe('RFC 822 date.'),
});

/** A pop answer; without a job `id` is null, `ids` and `payload` are empty and `skipped` says why. */
export function popAnswer(payload: z.ZodObject) {
  return z.object({
    id: z.string().nullable().describe('The first job id; null when no job matched.'),
    ids: z.array(z.string()),
    model: z.string().nullable(),
    ttl: z.number().int().nullable().describe('Seconds before the jobs go to another worker.'),
    payload: z.union([payload, z.strictObject({})]),
    skipped: z
      .record(z.string(), z.number().int())
      .describe('How many waiting requests this worker could not take, by reason (`models`, `nsfw`…).'),
    messages: z.array(WorkerMessageSchema),
  });
}

export const GenerationPayloadStableSchema = popAnswer(
  z
    .looseObject({
      prompt: z.string(),
      ...numbers('ddim_steps', 'n_iter', 'cfg_scale', 'width', 'height').shape,
      seed: z.string(),
      batch_size: z.literal(1),
      sampler_name: z.string(),
      karras: z.boolean(),
      use_nsfw_censor: z.boolean(),
    })
    .describe('The request params (`steps` renamed `ddim_steps`) and the prompt.'),
).extend({
  source_image: z
    .string()
    .nullable()
    .optional()
    .describe('A URL for bridges that fetch sources, else base64.'),
  source_processing: z.string().optional(),
  source_mask: z.string().nullable().optional(),
  extra_source_images: z.array(ExtraSourceImageSchema).nullable().optional(),
  r2_upload: z.string().nullable().optional().describe('Signed PUT URL for `ids[0]` (bridges that upload).'),
  r2_uploads: z.array(z.string()).nullable().optional().describe('One signed PUT URL per id.'),
});

export const GenerationPayloadKoboldSchema = popAnswer(
  z.looseObject({
    prompt: z.string(),
    n: z.literal(1),
    ...numbers('max_length', 'max_context_length').shape,
  }),
);

export const RewardSchema = z.object({ reward: z.number().describe('Kudos earned; 0 for a faulted job.') });

export const UserDetailsSchema = z.object({
  username: z.string().describe('The alias, `name#id`.'),
  id: z.number().int(),
  kudos: z.number(),
  kudos_details: numbers(
    'accumulated',
    'gifted',
    'donated',
    'admin',
    'received',
    'recurring',
    'awarded',
    'styled',
  ),
  records: z.object({
    usage: numbers('megapixelsteps', 'tokens'),
    contribution: numbers('megapixelsteps', 'tokens'),
    fulfillment: numbers('image', 'text', 'interrogation'),
    request: numbers('image', 'text', 'interrogation'),
    style: numbers('image', 'text'),
  }),
  usage: z.object({}).describe('Obsolete, empty.'),
  contributions: z.object({}).describe('Obsolete, empty.'),
  concurrency: z.number().int(),
  worker_invited: z.number().int(),
  ...booleans(
    'moderator',
    'trusted',
    'flagged',
    'pseudonymous',
    'service',
    'deleted',
    'education',
    'customizer',
  ),
  worker_count: z.number().int(),
  account_age: z.number().int().describe('Seconds.'),
  styles: z.array(z.unknown()),
  worker_ids: z
    .array(z.string())
    .optional()
    .describe('With `public_workers`, or to the owner and moderators.'),
  sharedkey_ids: z.array(z.string()).optional().describe('The owner and moderators.'),
  contact: z.string().nullable().optional().describe('The owner and moderators.'),
  ...maybeBooleans('vpn', 'special'),
  active_generations: z
    .object({ image: z.array(z.string()), text: z.array(z.string()), alchemy: z.array(z.string()) })
    .optional()
    .describe('The owner and moderators.'),
  evaluating_kudos: z.number().optional().describe('Moderators: rewards held until the account is trusted.'),
  monthly_kudos: z.object({ amount: z.number(), last_received: z.string().nullable() }).optional(),
  suspicious: z.number().optional().describe('Moderators.'),
  admin_comment: z.string().nullable().optional().describe('Moderators.'),
});

/** `PUT /users/{id}`: the engine's account changes under their wire names. */
export const AccountChangesWireSchema = (() => {
  // The users route maps the wire onto the engine: `public_workers` is the engine's `publicWorkers`, and
  // `undelete` its `deleted: false`; `deleted` itself is not a wire field.
  const { publicWorkers, deleted: _deleted, ...shape } = AccountChangesSchema.shape;
  return z.object({
    ...shape,
    public_workers: publicWorkers,
    undelete: z.literal(true).optional().describe('Restore a deleted account (moderators).'),
  });
})();

export const WorkerDetailsSchema = z.object({
  type: z.enum(['image', 'text']),
  name: z.string(),
  id: z.string(),
  online: z.boolean(),
  requests_fulfilled: z.number().int(),
  kudos_rewards: z.number(),
  kudos_details: numbers('generated', 'uptime', 'interrogated'),
  performance: z.string().describe('For people: `"1.2 megapixelsteps per second"`.'),
  threads: z.number().int(),
  uptime: z.number().int().describe('Seconds.'),
  maintenance_mode: z.boolean(),
  info: z.string().nullable(),
  nsfw: z.boolean(),
  trusted: z.boolean().describe('Whether the owner is trusted.'),
  flagged: z.boolean(),
  uncompleted_jobs: z.number().int(),
  models: z.array(z.string()),
  bridge_agent: z.string(),
  team: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
  owner: z.string().optional().describe("The owner's alias, with their `public_workers` or to moderators."),
  messages: z.array(WorkerMessageSchema).optional(),
  paused: z.boolean().optional().describe('Moderators.'),
  suspicious: z.number().optional().describe('Moderators.'),
  max_pixels: z.number().int().optional().describe('Image workers.'),
  megapixelsteps_generated: z.number().optional().describe('Image workers.'),
  ...maybeBooleans('img2img', 'painting', 'post-processing', 'controlnet', 'sdxl_controlnet', 'lora'),
  max_length: z.number().int().optional().describe('Text workers.'),
  max_context_length: z.number().int().optional().describe('Text workers.'),
});

export const ModelStatusSchema = z.object({
  name: z.string(),
  count: z.number().int().describe('Threads of online workers serving it.'),
  performance: z.number().describe('Mean speed, things per second.'),
  queued: z.number().describe('Waiting pixelsteps or tokens.'),
  jobs: z.number(),
  eta: z.number().int().describe('Seconds to clear its queue; 10000 when nobody serves it.'),
  type: z.enum(['image', 'text']),
});

export const periods = (...keys: string[]) =>
  z.object(Object.fromEntries(['minute', 'hour', 'day', 'month', 'total'].map((p) => [p, numbers(...keys)])));
export const perModel = z.record(z.string(), z.number().int()).describe('Model → count.');
export const ModelStatsSchema = z.object({ day: perModel, month: perModel, total: perModel });

export const TestUserSchema = z.object({
  api_key: z.string(),
  user_id: z.string(),
  username: z.string(),
  alias: z.string(),
  kudos: z.number(),
  trusted: z.boolean(),
  moderator: z.boolean(),
  created: z.boolean(),
});

export const ServiceInfoSchema = z.object({
  software: z.object({ name: z.string(), version: z.string(), repository: z.string(), homepage: z.string() }),
  api: z.object({
    aihorde: z.object({
      name: z.string(),
      version: z.string(),
      base_url: z.string(),
      rel_url: z.string(),
      documentation: z.string(),
    }),
  }),
});

/** Named shapes: each becomes `components.schemas.<name>`, referenced with `$ref` wherever it is used. */
export const SCHEMAS: Record<string, z.ZodType> = {
  Error: ErrorSchema,
  ValidationError: ValidationErrorSchema,
  ImageGenerate: ImageGenerateSchema,
  ImageParams: ImageParamsSchema,
  Lora: LoraSchema,
  TextualInversion: TextualInversionSchema,
  ExtraSourceImage: ExtraSourceImageSchema,
  TextGenerate: TextGenerateSchema,
  TextParams: TextParamsSchema,
  ImagePop: ImagePopSchema,
  TextPop: TextPopSchema,
  ImageSubmit: ImageSubmitSchema,
  TextSubmit: TextSubmitSchema,
  GenMetadata: GenMetadataSchema,
  KudosTransfer: TransferSchema,
  AccountChanges: AccountChangesWireSchema,
  WorkerChanges: WorkerChangesSchema,
  RequestAsync: RequestAsyncSchema,
  Warning: WarningSchema,
  KudosEstimate: KudosEstimateSchema,
  RequestStatusCheck: RequestStatusCheckSchema,
  RequestStatusStable: RequestStatusStableSchema,
  RequestStatusKobold: RequestStatusKoboldSchema,
  ImageGeneration: ImageGenerationSchema,
  TextGeneration: TextGenerationSchema,
  GenerationPayloadStable: GenerationPayloadStableSchema,
  GenerationPayloadKobold: GenerationPayloadKoboldSchema,
  WorkerMessage: WorkerMessageSchema,
  Reward: RewardSchema,
  UserDetails: UserDetailsSchema,
  WorkerDetails: WorkerDetailsSchema,
  ModelStatus: ModelStatusSchema,
  TestUser: TestUserSchema,
  ModelStats: ModelStatsSchema,
  ServiceInfo: ServiceInfoSchema,
};

/** Headers every `/api/v2` operation reads (`apikey` is the security scheme). */
