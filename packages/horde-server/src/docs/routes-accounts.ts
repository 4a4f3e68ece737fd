/** The route table: users, workers and kudos. */
import { TransferSchema, WorkerChangesSchema } from '@hordekit/core';
import { z } from 'zod';
import { changed, json, kind, LIMIT, type RouteDoc, userId, V2, workerId } from './route-types.js';
import { AccountChangesWireSchema, UserDetailsSchema, WorkerDetailsSchema } from './schemas.js';

export const ACCOUNT_ROUTES: readonly RouteDoc[] = [
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
];
