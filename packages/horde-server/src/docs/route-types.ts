import { z } from 'zod';

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

export const V2 = '/api/v2';
export const requestId = z.object({ id: z.string().max(64).describe('The request id.') });
export const workerId = z.object({ id: z.string().describe('The worker id.') });
export const userId = z.object({
  id: z.number().int().min(0).describe('The numeric user id (after the `#`).'),
});
export const signedUrl = z.object({
  expires: z.string().describe('Seconds since the epoch after which the URL is dead.'),
  sig: z.string().describe('The signature.'),
});
export const blobKey = z.object({ key: z.string().describe('`<job id>.webp`.') });
export const webp = z.string().meta({ format: 'binary', contentMediaType: 'image/webp' });
export const kind = z.enum(['image', 'text']);
export const modelState = z
  .enum(['known', 'custom', 'all'])
  .describe('`known`: in the model reference; `custom`: others.');
export const changed = z.record(z.string(), z.unknown());
export const json = (status: RouteReply['status'], schema: z.ZodType, description: string): RouteReply => ({
  status,
  schema,
  description,
});

export const LIMIT = {
  generate: '90/min and 2/s per IP, 2/s per API key (60/s for the anonymous key)',
  check: '10/s per IP and request',
  worker: '60/s per IP',
  transfer: '1/s and 90/hour per API key',
  workerDetails: '30/min per IP and worker',
  userDetails: '60/min per IP and user',
};

export const IMAGE_RULES = `MaintenanceMode MissingPrompt InvalidPromptSize TooManyUpscalers TooManyLoras
  BadLoraVersion TooManyTIs BadCFGDecimals UnexpectedModelName ControlNetSourceMissing ControlNetMismatch
  HiResMismatch SourceMaskUnnecessary InpaintingMissingMask InvalidExtraSourceImages. RequiresTrust
  OnlyServiceAccountProxy NulByteInPayload`;
export const TEXT_RULES = `MaintenanceMode MissingPrompt TokenOverflow MissingFullSamplerOrder TooManyStopSequences
  ExcessiveStopSequence InvalidExtraSourceImages. RequiresTrust OnlyServiceAccountProxy NulByteInPayload`;
export const GENERATE_ERRORS = {
  401: 'InvalidAPIKey',
  403: 'KudosUpfront DeletedUser',
  404: 'WorkerNotFound',
  413: 'PayloadTooLarge',
  429: 'TooManyPrompts',
};
export const POP_ERRORS = {
  400: 'NoValidModels InvalidPriorityUsername TooLongWorkerName ProfaneWorkerName PolymorphicNameConflict',
  401: 'InvalidAPIKey',
  403: 'AnonForbiddenWorker WorkerFlaggedMaintenance WorkerMaintenance WrongCredentials TooManyWorkers',
};
export const SUBMIT_ERRORS = {
  400: 'DuplicateGen AbortedGen BadRequest',
  401: 'InvalidAPIKey',
  403: 'WrongCredentials',
  404: 'InvalidJobID',
  413: 'PayloadTooLarge',
};
export const STREAM_EVENTS = `Each event's \`data\` is a JSON object with the request \`id\`. Events, in order:

- \`state\`: the progress numbers of the check, sent first
- \`position\`: the queue position and wait time — right after \`state\` while the request waits, then whenever it moves (at most once a second)
- \`processing\`: a worker took jobs
- \`generation\`: a result arrived (images carry a signed \`img\` URL)
- \`restarted\`: a job failed and went back to the queue
- \`done\`, \`faulted\`, \`cancelled\`, \`expired\`: the last event; the stream ends

Comment lines keep idle connections open through proxies.`;
