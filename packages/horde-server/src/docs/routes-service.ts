import { z } from 'zod';
import { TestUserInputSchema } from '../routes/dev-schema.js';
import { json, kind, modelState, type RouteDoc, V2 } from './route-types.js';
import {
  ModelStatsSchema,
  ModelStatusSchema,
  numbers,
  periods,
  ServiceInfoSchema,
  TestUserSchema,
} from './schemas.js';

export const SERVICE_ROUTES: readonly RouteDoc[] = [
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
