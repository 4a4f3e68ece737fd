/**
 * Accepting a request: validate, price, apply the free tier (upfront kudos or downgrade), charge the
 * activation tax and enqueue — the last two atomically in the store (spec §2.2, §2.5, §3.1).
 */
import { HordeError, isHordeError } from '../errors.js';
import { newId } from '../ids.js';
import { toCenti } from '../ledger/money.js';
import { imageActivationTax, imageDryRun, imageJobKudos, imageThings } from '../ledger/pricing-image.js';
import { textActivationTax, textDryRun, textUpfrontAmount } from '../ledger/pricing-text.js';
import {
  downgradeImage,
  downgradeText,
  imageMaxResolution,
  imageUpfrontReason,
  textMaxTokens,
  textUpfrontReason,
  usesLcm,
} from '../ledger/upfront.js';
import { baselineMultiplier } from '../models/baselines.js';
import { baselineOf } from '../models/reference.js';
import type { ImageGenerateBody, TextGenerateBody } from '../requests/schemas.js';
import { parseImageRequest, parseTextRequest } from '../requests/validate.js';
import { imageNeeds, textNeeds } from '../scheduler/needs.js';
import type { AccountRecord, NewRequest, RequestKind, RequestRecord } from '../storage/types.js';
import { assertActive, authenticate, type Credentials, floorOf } from './accounts.js';
import type { EngineContext } from './context.js';
import { canAnyWorkerServe } from './possible.js';
import { publishQueued } from './progress.js';

export interface GenerateWarning {
  code: 'NoAvailableWorker';
  message: string;
}

/** The answer to an accepted request (`202`), or to a dry run (`kudos` only). */
export interface GenerateResult {
  /** Null for a dry run. */
  id: string | null;
  /**
   * Accepted: the price of one job (the AI Horde's quirk: the async answer carries the per-job model kudos,
   * and 0 for text). Dry run: the estimated total.
   */
  kudos: number;
  message?: string;
  warnings: GenerateWarning[];
}

export interface GenerateOptions {
  /** Context to keep with the request (client agent, IP, proxied account). */
  meta?: Record<string, string>;
}

function validationContext(ctx: EngineContext, account: AccountRecord) {
  return {
    roles: {
      trusted: account.roles.trusted,
      special: account.roles.special,
      service: account.roles.service,
      education: account.roles.education,
    },
    models: ctx.models,
    maxPromptWords: ctx.config.queue.maxPromptWords,
  };
}

/** Priority of flagged accounts (spec §3.2): `round(kudos / 1000)` above 10 kudos, else −100. */
function priorityOverride(account: AccountRecord): number | undefined {
  if (!account.roles.flagged) return undefined;
  const kudos = account.balance / 100;
  return kudos > 10 ? Math.round(kudos / 1000) : -100;
}

const NO_WORKER_MESSAGE =
  'Warning: No available workers can fulfill this request. It will expire in 20 minutes unless a worker appears. ' +
  'Consider reducing the size of the request or choosing a different model.';

async function finishEnqueue(
  ctx: EngineContext,
  request: RequestRecord,
  perJobKudos: number,
): Promise<GenerateResult> {
  const possible = await canAnyWorkerServe(ctx, request);
  await publishQueued(ctx, request);
  ctx.logger.debug(
    {
      request: request.id,
      kind: request.kind,
      account: request.accountId,
      jobs: request.jobs,
      priority: request.priority,
      possible,
    },
    'request enqueued',
  );
  if (possible) return { id: request.id, kudos: perJobKudos, warnings: [] };
  const message = NO_WORKER_MESSAGE;
  return { id: request.id, kudos: perJobKudos, message, warnings: [{ code: 'NoAvailableWorker', message }] };
}

function upfrontError(detail: string, required: number, cause: unknown): HordeError {
  return new HordeError(
    'KudosUpfront',
    `${detail} This request requires ${Math.round(required)} kudos to fulfil, and your account does not have them available. ` +
      'Make the request smaller, set allow_downgrade to let the horde shrink it, or earn kudos by running a worker.',
    { details: { required: Math.round(required) }, cause },
  );
}

async function enqueue(
  ctx: EngineContext,
  account: AccountRecord,
  request: NewRequest,
  tax: number,
  reserve: number,
  upfrontDetail: string | null,
): Promise<RequestRecord> {
  try {
    return await ctx.store.enqueueRequest({
      request,
      tax: toCenti(tax),
      reserve: toCenti(reserve),
      floor: floorOf(ctx, account),
      concurrencyLimit: account.concurrency,
      priorityOverride: priorityOverride(account),
      aging: { amount: ctx.config.queue.agingAmount, intervalMs: ctx.config.queue.agingIntervalMs },
    });
  } catch (error) {
    if (isHordeError(error, 'KudosUpfront') && upfrontDetail)
      throw upfrontError(upfrontDetail, reserve, error);
    throw error;
  }
}

function newRequest(
  ctx: EngineContext,
  account: AccountRecord,
  kind: RequestKind,
  body: ImageGenerateBody | TextGenerateBody,
  fields: Pick<NewRequest, 'needs' | 'pixels' | 'maxLength' | 'maxContextLength' | 'things' | 'jobPrice'>,
  meta: Record<string, string>,
): NewRequest {
  const now = ctx.clock.now();
  return {
    id: newId(),
    kind,
    accountId: account.id,
    body,
    models: [...new Set(body.models)],
    jobs: body.params.n,
    createdAt: now,
    expiresAt: now + ctx.config.queue.requestExpiryMs,
    meta,
    ...fields,
  };
}

function imageMultiplier(ctx: EngineContext, body: ImageGenerateBody): number {
  // With no model named, the estimate assumes SDXL, as the public horde does.
  const baseline =
    body.models[0] === undefined ? 'stable_diffusion_xl' : baselineOf(ctx.models, body.models[0]);
  return baselineMultiplier(baseline, {
    qrCode: body.params.workflow === 'qr_code',
    hiresFix: body.params.hires_fix,
  });
}

/** Every id in `workers` must name a known worker (spec §1.1: unknown id → `WorkerNotFound`). */
async function assertWorkersExist(ctx: EngineContext, ids: string[]): Promise<void> {
  for (const id of ids) {
    if (!(await ctx.store.getWorker(id))) {
      throw new HordeError(
        'WorkerNotFound',
        'A worker listed in `workers` does not exist. Check the worker ids.',
        {
          details: { worker: id },
        },
      );
    }
  }
}

export async function generateImage(
  ctx: EngineContext,
  credentials: Credentials,
  input: unknown,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const account = await authenticate(ctx, credentials);
  assertActive(account);
  let body: ImageGenerateBody = parseImageRequest(input, validationContext(ctx, account));
  await assertWorkersExist(ctx, body.workers);
  const pricing = ctx.config.pricing;
  let jobKudos = imageJobKudos(body, pricing);
  let dryRun = imageDryRun(body, jobKudos, imageMultiplier(ctx, body), pricing);
  if (body.dry_run) return { id: null, kudos: dryRun, warnings: [] };

  const load = await ctx.load.snapshot('image');
  const queue = await ctx.store.queueSummary('image');
  const firstBaseline =
    body.models[0] === undefined ? 'stable_diffusion_1' : baselineOf(ctx.models, body.models[0]);
  const maxResolution = imageMaxResolution(
    { activeThreads: load.activeThreads, queuedJobs: queue.jobs },
    ctx.config.freeTier,
    firstBaseline,
  );
  const modelMaxSteps =
    body.models[0] === undefined ? undefined : ctx.models.image(body.models[0])?.requirements.max_steps;
  const lcm = usesLcm(body);
  let reason = imageUpfrontReason(body, { maxResolution, modelMaxSteps, lcm }, ctx.config.freeTier);
  let reserve = 0;
  if (reason && body.allow_downgrade) {
    body = downgradeImage(body, { maxResolution, maxSteps: modelMaxSteps }, ctx.config.freeTier);
    jobKudos = imageJobKudos(body, pricing);
    dryRun = imageDryRun(body, jobKudos, imageMultiplier(ctx, body), pricing);
    reason = imageUpfrontReason(body, { maxResolution, modelMaxSteps, lcm }, ctx.config.freeTier);
  }
  if (reason) reserve = dryRun;

  const request = await enqueue(
    ctx,
    account,
    newRequest(
      ctx,
      account,
      'image',
      body,
      {
        needs: imageNeeds(body),
        pixels: body.params.width * body.params.height,
        maxLength: 0,
        maxContextLength: 0,
        things: imageThings(body),
        jobPrice: toCenti(jobKudos),
      },
      options.meta ?? {},
    ),
    imageActivationTax(body, pricing),
    reserve,
    reason?.message ?? null,
  );
  return finishEnqueue(ctx, request, Math.round(jobKudos));
}

function textSize(ctx: EngineContext, model: string | undefined): number | null {
  if (model === undefined) return null;
  return ctx.models.text(model)?.parametersB ?? 1;
}

export async function generateText(
  ctx: EngineContext,
  credentials: Credentials,
  input: unknown,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const account = await authenticate(ctx, credentials);
  assertActive(account);
  let body: TextGenerateBody = parseTextRequest(input, validationContext(ctx, account));
  await assertWorkersExist(ctx, body.workers);
  const pricing = ctx.config.pricing;
  const firstSize = textSize(ctx, body.models[0]);
  if (body.dry_run) return { id: null, kudos: textDryRun(body, firstSize, pricing), warnings: [] };

  const load = await ctx.load.snapshot('text');
  const queue = await ctx.store.queueSummary('text');
  const maxTokens = textMaxTokens(
    { activeThreads: load.activeThreads, queuedJobs: queue.jobs },
    ctx.config.freeTier,
  );
  let reason = textUpfrontReason(body, maxTokens);
  if (reason && body.allow_downgrade) {
    body = downgradeText(body, maxTokens);
    reason = textUpfrontReason(body, maxTokens);
  }
  const sizes = body.models.map((model) => textSize(ctx, model) ?? 1);
  const reserve = reason ? textUpfrontAmount(body, sizes.length ? Math.max(...sizes) : null, pricing) : 0;

  const request = await enqueue(
    ctx,
    account,
    newRequest(
      ctx,
      account,
      'text',
      body,
      {
        needs: textNeeds(body),
        pixels: 0,
        maxLength: body.params.max_length,
        maxContextLength: body.params.max_context_length,
        things: body.params.max_length,
        jobPrice: 0,
      },
      options.meta ?? {},
    ),
    textActivationTax(pricing),
    reserve,
    reason?.message ?? null,
  );
  return finishEnqueue(ctx, request, 0);
}
