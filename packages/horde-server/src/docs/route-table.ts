/**
 * Every endpoint the server answers, as data: `openapi.ts` turns this table into the OpenAPI document.
 * Request bodies are the engine's own zod schemas, so the document cannot drift from validation; response
 * bodies are the small zod schemas below, written from the wire reference (spec §1).
 */
import {
  ImageGenerateSchema,
  ImagePopSchema,
  ImageSubmitSchema,
  TextGenerateSchema,
  TextPopSchema,
  TextSubmitSchema,
  TransferSchema,
  WorkerChangesSchema,
} from '@hordekit/core';
import { z } from 'zod';
import { TestUserInputSchema } from '../routes/dev-schema.js';
import {
  AccountChangesWireSchema,
  GenerationPayloadKoboldSchema,
  GenerationPayloadStableSchema,
  KudosEstimateSchema,
  ModelStatsSchema,
  ModelStatusSchema,
  numbers,
  periods,
  RequestAsyncSchema,
  RequestStatusCheckSchema,
  RequestStatusKoboldSchema,
  RequestStatusStableSchema,
  RewardSchema,
  ServiceInfoSchema,
  TestUserSchema,
  UserDetailsSchema,
  WorkerDetailsSchema,
} from './schemas.js';

export type Method = 'get' | 'post' | 'put' | 'delete';
/** What the `apikey` header must be: absent, optional (raises privilege) or required. */
export type Auth = 'none' | 'optional' | 'required';
export type Tag = 'image' | 'text' | 'users' | 'workers' | 'kudos' | 'status' | 'dev' | 'service';
export type ErrorStatus = 400 | 401 | 403 | 404 | 413 | 423 | 429;

export interface RouteBody {
  schema: z.ZodType;
  /** @default ['application/json'] */
  mediaTypes?: readonly string[];
  description?: string;
}

export interface RouteReply {
  status: 200 | 201 | 202;
  description: string;
  /** Absent for an empty body. */
  schema?: z.ZodType;
  /** @default 'application/json' */
  mediaType?: string;
}

export interface RouteDoc {
  method: Method;
  /** OpenAPI style, from the server root: `/api/v2/generate/status/{id}`. */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  auth: Auth;
  /** The limit in words (spec §4.1); `false` when never limited. @default 90/min per IP under `/api/v2` */
  rateLimit?: string | false;
  /** One key per `{name}` in `path`. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: RouteBody;
  replies: readonly [RouteReply, ...RouteReply[]];
  /**
   * Error answers, each with its return codes separated by white space. The validation (400) and rate
   * limit (429) answers are added from `body`, `auth` and `rateLimit`.
   */
  errors?: Partial<Record<ErrorStatus, string>>;
}

// ---- shapes shared by many answers -----------------------------------------------------------------

export const COMMON_HEADERS = z.object({
  'Client-Agent': z
    .string()
    .optional()
    .describe(
      '`<name>:<version>:<contact>` of your client (`client_agent` works too). Default: `unknown:0:unknown`.',
    ),
  'X-Fields': z
    .string()
    .optional()
    .describe('A response field mask: `id,kudos`, or `generations{id,img}` inside nested objects.'),
});

// ---- the endpoints ---------------------------------------------------------------------------------

const V2 = '/api/v2';
const requestId = z.object({ id: z.string().max(64).describe('The request id.') });
const workerId = z.object({ id: z.string().describe('The worker id.') });
const userId = z.object({ id: z.number().int().min(0).describe('The numeric user id (after the `#`).') });
const signedUrl = z.object({
  expires: z.string().describe('Seconds since the epoch after which the URL is dead.'),
  sig: z.string().describe('The signature.'),
});
const blobKey = z.object({ key: z.string().describe('`<job id>.webp`.') });
const webp = z.string().meta({ format: 'binary', contentMediaType: 'image/webp' });
const kind = z.enum(['image', 'text']);
const modelState = z
  .enum(['known', 'custom', 'all'])
  .describe('`known`: in the model reference; `custom`: others.');
const changed = z.record(z.string(), z.unknown());
const json = (status: RouteReply['status'], schema: z.ZodType, description: string): RouteReply => ({
  status,
  schema,
  description,
});

const LIMIT = {
  generate: '90/min and 2/s per IP, 2/s per API key (60/s for the anonymous key)',
  check: '10/s per IP and request',
  worker: '60/s per IP',
  transfer: '1/s and 90/hour per API key',
  workerDetails: '30/min per IP and worker',
  userDetails: '60/min per IP and user',
};

const IMAGE_RULES = `MaintenanceMode MissingPrompt InvalidPromptSize TooManyUpscalers TooManyLoras
  BadLoraVersion TooManyTIs BadCFGDecimals UnexpectedModelName ControlNetSourceMissing ControlNetMismatch
  HiResMismatch SourceMaskUnnecessary InpaintingMissingMask InvalidExtraSourceImages. RequiresTrust
  OnlyServiceAccountProxy NulByteInPayload`;
const TEXT_RULES = `MaintenanceMode MissingPrompt TokenOverflow MissingFullSamplerOrder TooManyStopSequences
  ExcessiveStopSequence InvalidExtraSourceImages. RequiresTrust OnlyServiceAccountProxy NulByteInPayload`;
const GENERATE_ERRORS = {
  401: 'InvalidAPIKey',
  403: 'KudosUpfront DeletedUser',
  404: 'WorkerNotFound',
  413: 'PayloadTooLarge',
  429: 'TooManyPrompts',
};
const POP_ERRORS = {
  400: 'NoValidModels InvalidPriorityUsername TooLongWorkerName ProfaneWorkerName PolymorphicNameConflict',
  401: 'InvalidAPIKey',
  403: 'AnonForbiddenWorker WorkerFlaggedMaintenance WorkerMaintenance WrongCredentials TooManyWorkers',
};
const SUBMIT_ERRORS = {
  400: 'DuplicateGen AbortedGen BadRequest',
  401: 'InvalidAPIKey',
  403: 'WrongCredentials',
  404: 'InvalidJobID',
  413: 'PayloadTooLarge',
};
const STREAM_EVENTS = `Each event's \`data\` is a JSON object with the request \`id\`. Events, in order:

- \`state\`: the progress numbers of the check, sent first
- \`queued\`, \`position\`: the queue position and wait time (at most once a second)
- \`processing\`: a worker took jobs
- \`generation\`: a result arrived (images carry a signed \`img\` URL)
- \`restarted\`: a job failed and went back to the queue
- \`done\`, \`faulted\`, \`cancelled\`, \`expired\`: the last event; the stream ends

Comment lines keep idle connections open through proxies.`;

export const ROUTES: readonly RouteDoc[] = [
  // image
  {
    method: 'post',
    path: `${V2}/generate/async`,
    tag: 'image',
    summary: 'Queue an image request',
    description: 'Answers 202 with the request id, or 200 with the cost alone when `dry_run` is true.',
    auth: 'required',
    rateLimit: LIMIT.generate,
    body: { schema: ImageGenerateSchema },
    replies: [
      json(202, RequestAsyncSchema, 'Queued.'),
      json(200, KudosEstimateSchema, 'The `dry_run` estimate.'),
    ],
    errors: { ...GENERATE_ERRORS, 400: IMAGE_RULES },
  },
  {
    method: 'get',
    path: `${V2}/generate/check/{id}`,
    tag: 'image',
    summary: 'Progress of an image request, without the images',
    auth: 'none',
    rateLimit: LIMIT.check,
    params: requestId,
    replies: [json(200, RequestStatusCheckSchema, 'The progress.')],
    errors: { 404: 'RequestNotFound' },
  },
  {
    method: 'get',
    path: `${V2}/generate/status/{id}`,
    tag: 'image',
    summary: 'Progress of an image request, with the finished images',
    auth: 'none',
    rateLimit: '10/min per IP and request',
    params: requestId,
    replies: [json(200, RequestStatusStableSchema, 'The progress and the results so far.')],
    errors: { 404: 'RequestNotFound' },
  },
  {
    method: 'delete',
    path: `${V2}/generate/status/{id}`,
    tag: 'image',
    summary: 'Cancel an image request',
    description: 'Answers the status as it was before the cancel; jobs already taken may still finish.',
    auth: 'none',
    rateLimit: '10/min per IP and request',
    params: requestId,
    replies: [json(200, RequestStatusStableSchema, 'The status before the cancel.')],
    errors: { 404: 'RequestNotFound' },
  },
  {
    method: 'get',
    path: `${V2}/generate/stream/{id}`,
    tag: 'image',
    summary: 'Follow an image or text request as Server-Sent Events, instead of polling',
    description: STREAM_EVENTS,
    auth: 'none',
    rateLimit: LIMIT.check,
    params: requestId,
    replies: [
      { status: 200, mediaType: 'text/event-stream', schema: z.string(), description: 'The events.' },
    ],
    errors: { 404: 'RequestNotFound' },
  },
  {
    method: 'post',
    path: `${V2}/generate/pop`,
    tag: 'image',
    summary: 'A worker asks for image jobs',
    description: 'The first pop registers the worker. Without a job, `id` is null and `skipped` says why.',
    auth: 'required',
    rateLimit: LIMIT.worker,
    body: { schema: ImagePopSchema },
    replies: [json(200, GenerationPayloadStableSchema, 'A job, or none.')],
    errors: POP_ERRORS,
  },
  {
    method: 'post',
    path: `${V2}/generate/submit`,
    tag: 'image',
    summary: 'A worker returns an image',
    description: '`generation` is `"R2"` after a PUT to the `r2_upload` URL, or the WebP image as base64.',
    auth: 'required',
    rateLimit: LIMIT.worker,
    body: { schema: ImageSubmitSchema },
    replies: [json(200, RewardSchema, 'Accepted.')],
    errors: SUBMIT_ERRORS,
  },
  {
    method: 'put',
    path: `${V2}/uploads/{key}`,
    tag: 'image',
    summary: 'Upload a generated image to its signed URL (`r2_upload`)',
    description: 'The signature is the permission: no `apikey`. A retry overwrites.',
    auth: 'none',
    rateLimit: LIMIT.worker,
    params: blobKey,
    query: signedUrl,
    body: { schema: webp, mediaTypes: ['image/webp'], description: 'The WebP bytes.' },
    replies: [{ status: 200, description: 'Stored.' }],
    errors: { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 413: 'PayloadTooLarge' },
  },
  {
    method: 'get',
    path: `${V2}/images/{key}`,
    tag: 'image',
    summary: 'Download an image from its signed URL (a status `img`)',
    auth: 'none',
    rateLimit: '10/s per IP and image',
    params: blobKey,
    query: signedUrl,
    replies: [{ status: 200, mediaType: 'image/webp', schema: webp, description: 'The image.' }],
    errors: { 403: 'Forbidden', 404: 'NotFound' },
  },
  // text
  {
    method: 'post',
    path: `${V2}/generate/text/async`,
    tag: 'text',
    summary: 'Queue a text request',
    description: 'Answers 202 with the request id, or 200 with the cost alone when `dry_run` is true.',
    auth: 'required',
    rateLimit: LIMIT.generate,
    body: { schema: TextGenerateSchema },
    replies: [
      json(202, RequestAsyncSchema, 'Queued.'),
      json(200, KudosEstimateSchema, 'The `dry_run` estimate.'),
    ],
    errors: { ...GENERATE_ERRORS, 400: TEXT_RULES },
  },
  {
    method: 'get',
    path: `${V2}/generate/text/status/{id}`,
    tag: 'text',
    summary: 'Progress of a text request, with the finished texts',
    auth: 'none',
    rateLimit: '60/min per IP and request',
    params: requestId,
    replies: [json(200, RequestStatusKoboldSchema, 'The progress and the results so far.')],
    errors: { 404: 'RequestNotFound' },
  },
  {
    method: 'delete',
    path: `${V2}/generate/text/status/{id}`,
    tag: 'text',
    summary: 'Cancel a text request',
    auth: 'none',
    rateLimit: '60/min per IP and request',
    params: requestId,
    replies: [json(200, RequestStatusKoboldSchema, 'The status before the cancel.')],
    errors: { 404: 'RequestNotFound' },
  },
  {
    method: 'post',
    path: `${V2}/generate/text/pop`,
    tag: 'text',
    summary: 'A worker asks for text jobs',
    auth: 'required',
    rateLimit: LIMIT.worker,
    body: { schema: TextPopSchema },
    replies: [json(200, GenerationPayloadKoboldSchema, 'A job, or none.')],
    errors: POP_ERRORS,
  },
  {
    method: 'post',
    path: `${V2}/generate/text/submit`,
    tag: 'text',
    summary: 'A worker returns a text',
    auth: 'required',
    rateLimit: LIMIT.worker,
    body: { schema: TextSubmitSchema },
    replies: [json(200, RewardSchema, 'Accepted.')],
    errors: SUBMIT_ERRORS,
  },
  // users
  {
    method: 'get',
    path: `${V2}/find_user`,
    tag: 'users',
    summary: 'The account of the API key',
    auth: 'required',
    replies: [json(200, UserDetailsSchema, 'The account.')],
    errors: { 401: 'InvalidAPIKey', 404: 'UserNotFound' },
  },
  {
    method: 'get',
    path: `${V2}/users`,
    tag: 'users',
    summary: 'All accounts, 25 a page',
    auth: 'none',
    query: z.object({
      page: z.number().int().min(1).default(1),
      sort: z.enum(['kudos', 'age']).default('kudos'),
    }),
    replies: [json(200, z.array(UserDetailsSchema), 'One page.')],
    errors: { 400: 'BadRequest' },
  },
  {
    method: 'get',
    path: `${V2}/users/{id}`,
    tag: 'users',
    summary: 'One account',
    description: 'The account itself and moderators see more fields.',
    auth: 'optional',
    rateLimit: LIMIT.userDetails,
    params: userId,
    replies: [json(200, UserDetailsSchema, 'The account.')],
    errors: { 401: 'InvalidAPIKey', 404: 'UserNotFound' },
  },
  {
    method: 'put',
    path: `${V2}/users/{id}`,
    tag: 'users',
    summary: 'Change an account',
    description: `Admins change \`kudos\` (a delta) and \`moderator\`; moderators the roles and \
\`concurrency\`; the account itself or a moderator \`username\`, \`contact\` and \`public_workers\`.`,
    auth: 'required',
    rateLimit: LIMIT.userDetails,
    params: userId,
    body: { schema: AccountChangesWireSchema },
    replies: [json(200, changed, 'The fields that changed.')],
    errors: {
      400: 'NoUserModSelected TooLongUserName BadRequest',
      401: 'InvalidAPIKey',
      403: 'NotAdmin NotModerator AnonForbidden',
      404: 'UserNotFound',
    },
  },
  // workers
  {
    method: 'get',
    path: `${V2}/workers`,
    tag: 'workers',
    summary: 'Online workers',
    description: 'A moderator key adds the moderator fields.',
    auth: 'optional',
    query: z.object({ type: kind.optional(), name: z.string().optional().describe('An exact worker name.') }),
    replies: [json(200, z.array(WorkerDetailsSchema), 'The workers seen in the last five minutes.')],
    errors: { 400: 'BadRequest', 401: 'InvalidAPIKey' },
  },
  {
    method: 'get',
    path: `${V2}/workers/{id}`,
    tag: 'workers',
    summary: 'One worker, online or not',
    auth: 'optional',
    rateLimit: LIMIT.workerDetails,
    params: workerId,
    replies: [json(200, WorkerDetailsSchema, 'The worker.')],
    errors: { 401: 'InvalidAPIKey', 404: 'WorkerNotFound' },
  },
  {
    method: 'put',
    path: `${V2}/workers/{id}`,
    tag: 'workers',
    summary: 'Change a worker',
    description:
      'The owner or a moderator: `maintenance`, `maintenance_msg`, `info`, `name`; moderators: `paused`.',
    auth: 'required',
    rateLimit: LIMIT.workerDetails,
    params: workerId,
    body: { schema: WorkerChangesSchema },
    replies: [json(200, changed, 'The fields that changed.')],
    errors: {
      400: 'NoWorkerModSelected WorkerNameAlreadyExists ProfaneWorkerName TooLongWorkerName',
      401: 'InvalidAPIKey',
      403: 'NotOwner NotModerator',
      404: 'WorkerNotFound',
    },
  },
  {
    method: 'delete',
    path: `${V2}/workers/{id}`,
    tag: 'workers',
    summary: 'Delete a worker',
    auth: 'required',
    rateLimit: LIMIT.workerDetails,
    params: workerId,
    replies: [json(200, z.object({ deleted_id: z.string(), deleted_name: z.string() }), 'Deleted.')],
    errors: { 401: 'InvalidAPIKey', 403: 'NotOwner', 404: 'WorkerNotFound', 423: 'Locked' },
  },
  {
    method: 'get',
    path: `${V2}/workers/name/{name}`,
    tag: 'workers',
    summary: 'One worker by its exact name',
    auth: 'optional',
    rateLimit: LIMIT.workerDetails,
    params: z.object({ name: z.string() }),
    replies: [json(200, WorkerDetailsSchema, 'The worker.')],
    errors: { 401: 'InvalidAPIKey', 404: 'WorkerNotFound' },
  },
  // kudos
  {
    method: 'post',
    path: `${V2}/kudos/transfer`,
    tag: 'kudos',
    summary: 'Give kudos to another account',
    auth: 'required',
    rateLimit: LIMIT.transfer,
    headers: z.object({
      'Idempotency-Key': z
        .string()
        .max(255)
        .optional()
        .describe(
          'A retry with the same key does not transfer twice; the same key for another transfer is refused.',
        ),
    }),
    body: { schema: TransferSchema, description: '`username` is the recipient alias, `name#id`.' },
    replies: [json(200, z.object({ transferred: z.number() }), 'Transferred.')],
    errors: {
      400: `KudosTransferToSelf KudosTransferToAnon KudosTransferFromAnon KudosTransferNotEnough
        NegativeKudosTransfer InvalidKudosTransferAmount TooFastKudosTransfers SourceAccountFlagged
        TargetAccountFlagged EducationCannotSendKudos InvalidTargetUsername IdempotencyKeyConflict`,
      401: 'InvalidAPIKey',
    },
  },
  {
    method: 'post',
    path: `${V2}/kudos/award`,
    tag: 'kudos',
    summary: 'Award kudos out of nothing (admins and moderators)',
    auth: 'required',
    rateLimit: LIMIT.transfer,
    body: { schema: TransferSchema },
    replies: [json(200, z.object({ awarded: z.number() }), 'Awarded.')],
    errors: {
      400: 'InvalidAwardUsername KudosAwardToAnon InvalidKudosTransferAmount NegativeKudosTransfer',
      401: 'InvalidAPIKey',
      403: 'NotAllowedAwards',
    },
  },
  // status
  {
    method: 'get',
    path: `${V2}/status/heartbeat`,
    tag: 'status',
    summary: 'Liveness, for load balancers',
    auth: 'none',
    rateLimit: false,
    replies: [
      json(
        200,
        z.object({
          message: z.enum(['OK', 'DOWN', 'OVERLOADED']),
          version: z.string().describe("The server's version."),
          queue: z.number().int().describe('Waiting requests.'),
          threads: z.number().int(),
          active_count: z.number().int().describe('Online workers.'),
          db_connection: z.boolean(),
        }),
        'Alive.',
      ),
    ],
  },
  {
    method: 'get',
    path: `${V2}/status/models`,
    tag: 'status',
    summary: 'Models with their workers, queue and speed',
    auth: 'none',
    query: z.object({
      type: kind.default('image'),
      min_count: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Only models served by at least this many threads.'),
      max_count: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Only models served by at most this many threads.'),
      model_state: modelState.default('all'),
    }),
    replies: [json(200, z.array(ModelStatusSchema), 'The models.')],
    errors: { 400: 'BadRequest' },
  },
  {
    method: 'get',
    path: `${V2}/status/models/{name}`,
    tag: 'status',
    summary: 'One model (a list of one)',
    auth: 'none',
    params: z.object({ name: z.string() }),
    replies: [json(200, z.array(ModelStatusSchema), 'The model.')],
    errors: { 404: 'NotFound' },
  },
  {
    method: 'get',
    path: `${V2}/status/performance`,
    tag: 'status',
    summary: 'Queue and worker totals',
    auth: 'none',
    replies: [
      json(
        200,
        numbers(
          'queued_requests',
          'queued_text_requests',
          'worker_count',
          'text_worker_count',
          'thread_count',
          'text_thread_count',
          'queued_megapixelsteps',
          'queued_tokens',
          'past_minute_megapixelsteps',
          'past_minute_tokens',
          'queued_forms',
          'interrogator_count',
          'interrogator_thread_count',
        ),
        'The totals (worker counts: seen in the last five minutes).',
      ),
    ],
  },
  {
    method: 'get',
    path: `${V2}/status/modes`,
    tag: 'status',
    summary: 'Maintenance and invite-only modes',
    auth: 'optional',
    rateLimit: '30/min per IP',
    replies: [
      json(
        200,
        z.object({
          maintenance_mode: z.boolean(),
          invite_only_mode: z.boolean(),
          raid_mode: z.boolean().optional().describe('With a moderator key.'),
        }),
        'The modes.',
      ),
    ],
    errors: { 401: 'InvalidAPIKey', 403: 'NotModerator' },
  },
  {
    method: 'get',
    path: `${V2}/stats/img/totals`,
    tag: 'status',
    summary: 'Images made, by period',
    auth: 'none',
    replies: [json(200, periods('images', 'ps'), '`ps`: pixelsteps.')],
  },
  {
    method: 'get',
    path: `${V2}/stats/img/models`,
    tag: 'status',
    summary: 'Images made per model, by period',
    auth: 'none',
    query: z.object({ model_state: modelState.default('known') }),
    replies: [json(200, ModelStatsSchema, 'The counts.')],
    errors: { 400: 'BadRequest' },
  },
  {
    method: 'get',
    path: `${V2}/stats/text/totals`,
    tag: 'status',
    summary: 'Texts made, by period',
    auth: 'none',
    replies: [json(200, periods('requests', 'tokens'), 'The totals.')],
  },
  {
    method: 'get',
    path: `${V2}/stats/text/models`,
    tag: 'status',
    summary: 'Texts made per model, by period',
    auth: 'none',
    query: z.object({ model_state: modelState.default('known') }),
    replies: [json(200, ModelStatsSchema, 'The counts.')],
    errors: { 400: 'BadRequest' },
  },
  // dev
  {
    method: 'post',
    path: `${V2}/dev/test-user`,
    tag: 'dev',
    summary: 'Create or refresh a test account (test hordes only)',
    description: `Only when the server runs with \`HORDE_TEST_APIKEYS\` (404 otherwise), and only for \
loopback peers (403 otherwise), as upstream: this is what the \`horde_sdk\` suite calls to get a key.`,
    auth: 'none',
    rateLimit: false,
    body: {
      schema: TestUserInputSchema,
    },
    replies: [
      json(201, TestUserSchema, 'Created.'),
      json(200, TestUserSchema, 'Existed: its key was rotated.'),
    ],
    errors: { 403: 'Forbidden', 404: 'NotFound' },
  },
  // service
  {
    method: 'get',
    path: '/.well-known/serviceinfo',
    tag: 'service',
    summary: 'What software this is and where its API lives',
    auth: 'none',
    replies: [json(200, ServiceInfoSchema, 'The service description.')],
  },
  {
    method: 'get',
    path: '/register',
    tag: 'service',
    summary: 'The sign-up page',
    auth: 'none',
    replies: [{ status: 200, mediaType: 'text/html', schema: z.string(), description: 'An HTML form.' }],
  },
  {
    method: 'post',
    path: '/register',
    tag: 'service',
    summary: 'Create an account and show its API key, once',
    description: 'A JSON post gets JSON; a form post gets an HTML page (and the form again on a 400).',
    auth: 'none',
    rateLimit: '10/hour per IP',
    body: {
      schema: z.object({ username: z.string().min(3).max(30) }),
      mediaTypes: ['application/json', 'application/x-www-form-urlencoded'],
    },
    replies: [
      json(
        201,
        z.object({
          api_key: z.string(),
          id: z.number().int(),
          username: z.string(),
          alias: z.string(),
          kudos: z.number(),
        }),
        'The new account and its key.',
      ),
    ],
    errors: { 400: 'BadRequest TooLongUserName' },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'service',
    summary: 'Prometheus metrics',
    auth: 'none',
    replies: [
      {
        status: 200,
        mediaType: 'text/plain; version=0.0.4',
        schema: z.string(),
        description: 'The metrics.',
      },
    ],
  },
];
