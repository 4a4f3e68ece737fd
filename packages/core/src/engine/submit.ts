/**
 * A worker returns a result (spec §1.1 submit, §2.2–§2.4): the first submit of a job wins and settles it —
 * the requester pays, the worker's owner earns, the journal records both, in one store operation. A
 * `faulted` submit sends the job back to the queue at once.
 */
import { HordeError } from '../errors.js';
import { fromCenti, toCenti } from '../ledger/money.js';
import { imageCensoredCost, imageJobCost } from '../ledger/pricing-image.js';
import { textCensoredCost, textJobCost, textWorkerReward } from '../ledger/pricing-text.js';
import { creditedReward, imageWorkerReward, splitEscrow } from '../ledger/rewards.js';
import { baselineMultiplier } from '../models/baselines.js';
import { bridgeProfile } from '../models/bridges.js';
import { baselineOf } from '../models/reference.js';
import type { GenMetadata, ImageGenerateBody, TextGenerateBody } from '../requests/schemas.js';
import { parseImageSubmit, parseTextSubmit } from '../requests/validate.js';
import type {
  GenerationResult,
  JobRecord,
  RequestKind,
  RequestRecord,
  WorkerRecord,
} from '../storage/types.js';
import { authenticate, type Credentials, floorOf, isAnonymous } from './accounts.js';
import type { EngineContext } from './context.js';
import { failJobAndPublish } from './failures.js';

export interface SubmitResult {
  /** Kudos the job earned, before the bridge multiplier (what the AI Horde answers). 0 for a faulted job. */
  reward: number;
}

const JOB_NOT_FOUND =
  'Processing Job with this ID does not exist. It may have expired; drop it and pop again.';

function duplicate(): HordeError {
  return new HordeError('DuplicateGen', 'This job was already submitted; drop it and pop again.');
}

function aborted(): HordeError {
  return new HordeError(
    'AbortedGen',
    'This job took too long and was given to another worker. Please check your worker speed: it must finish a job within its ttl.',
  );
}

function isCensored(metadata: GenMetadata[] | undefined): boolean {
  return (metadata ?? []).some((m) => m.type === 'censorship' && (m.value === 'csam' || m.value === 'nsfw'));
}

interface Settlement {
  reward: number;
  credited: number;
  cost: number;
}

function imageSettlement(
  ctx: EngineContext,
  job: JobRecord,
  request: RequestRecord,
  worker: WorkerRecord,
  censored: boolean,
): Settlement {
  const body = request.body as ImageGenerateBody;
  const pricing = ctx.config.pricing;
  const multiplier = baselineMultiplier(baselineOf(ctx.models, job.model), {
    qrCode: body.params.workflow === 'qr_code',
    hiresFix: body.params.hires_fix,
  });
  const jobKudos = fromCenti(request.jobPrice);
  const reward = imageWorkerReward(jobKudos, multiplier);
  const bridge = bridgeProfile(worker.profile.bridge_agent, {
    kind: 'image',
    permissiveUnknownBridges: ctx.config.workers.permissiveUnknownBridges,
  });
  return {
    reward,
    credited: creditedReward(reward, bridge.rewardMultiplier),
    cost: censored ? imageCensoredCost(body, pricing) : imageJobCost(jobKudos, multiplier, body, pricing),
  };
}

function textSettlement(
  ctx: EngineContext,
  job: JobRecord,
  request: RequestRecord,
  worker: WorkerRecord,
  generation: string,
  ownerTrusted: boolean,
  censored: boolean,
): Settlement {
  const body = request.body as TextGenerateBody;
  const pricing = ctx.config.pricing;
  const size = ctx.models.text(job.model);
  const bridge = bridgeProfile(worker.profile.bridge_agent, {
    kind: 'text',
    permissiveUnknownBridges: ctx.config.workers.permissiveUnknownBridges,
  });
  const reward = textWorkerReward(
    {
      generatedText: generation,
      prompt: body.prompt,
      maxLength: body.params.max_length,
      paramsB: size && !size.inferred ? size.parametersB : null,
      validatedBackend: bridge.validatedTextBackend,
      ownerTrusted,
    },
    pricing,
  );
  return {
    reward,
    credited: reward,
    cost: censored ? textCensoredCost(pricing) : textJobCost(reward, pricing),
  };
}

export async function submitJob(
  ctx: EngineContext,
  credentials: Credentials,
  kind: RequestKind,
  input: unknown,
): Promise<SubmitResult> {
  const account = await authenticate(ctx, credentials);
  const body = kind === 'image' ? parseImageSubmit(input) : parseTextSubmit(input);
  const job = await ctx.store.getJob(body.id);
  if (!job || job.kind !== kind) throw new HordeError('InvalidJobID', JOB_NOT_FOUND);
  const worker = await ctx.store.getWorker(job.workerId);
  if (!worker || worker.ownerId !== account.id) {
    throw new HordeError(
      'WrongCredentials',
      'Wrong credentials to submit this job: use the API key of the worker that popped it.',
    );
  }
  if (job.state === 'done') throw duplicate();
  if (job.state !== 'processing') throw aborted();

  const now = ctx.clock.now();
  if (body.state === 'faulted') {
    await failJobAndPublish(ctx, job, 'faulted');
    return { reward: 0 };
  }
  const request = await ctx.store.getRequest(job.requestId);
  if (!request) throw new HordeError('InvalidJobID', JOB_NOT_FOUND);
  const requester = await ctx.store.getAccount(request.accountId);
  if (!requester) throw new HordeError('InvalidJobID', JOB_NOT_FOUND);

  const censored =
    kind === 'image'
      ? isCensored(body.gen_metadata)
      : body.state === 'censored' || body.state === 'csam' || isCensored(body.gen_metadata);
  const settlement =
    kind === 'image'
      ? imageSettlement(ctx, job, request, worker, censored)
      : textSettlement(ctx, job, request, worker, body.generation, account.roles.trusted, censored);
  const split = splitEscrow(
    settlement.credited,
    { trusted: account.roles.trusted, anonymous: isAnonymous(account) },
    ctx.config.pricing,
  );
  const elapsed = Math.max(0.001, (now - job.createdAt) / 1000);
  const reported = body.state as Exclude<typeof body.state, 'faulted'>;
  const state =
    kind === 'image' ? 'ok' : isCensored(body.gen_metadata) && reported === 'ok' ? 'csam' : reported;
  const result: GenerationResult = {
    generation: body.generation,
    seed: body.seed,
    state,
    censored,
    genMetadata: body.gen_metadata ?? [],
  };
  const outcome = await ctx.store.completeJob({
    jobId: job.id,
    workerId: worker.id,
    result,
    cost: toCenti(settlement.cost),
    requesterFloor: floorOf(ctx, requester),
    reward: toCenti(split.balance),
    escrow: toCenti(split.escrow),
    speedSample: job.things / elapsed,
    speedSamples: ctx.config.workers.speedSamples,
    retainUntil: now + ctx.config.queue.resultRetentionMs,
    now,
  });
  switch (outcome.outcome) {
    case 'unknown':
      throw new HordeError('InvalidJobID', JOB_NOT_FOUND);
    case 'wrong-worker':
      throw new HordeError(
        'WrongCredentials',
        'Wrong credentials to submit this job: use the API key of the worker that popped it.',
      );
    case 'duplicate':
      throw duplicate();
    case 'aborted':
      throw aborted();
  }
  const settled = outcome.request;
  ctx.load.invalidate();
  ctx.events.publish({
    scope: 'request',
    type: 'generation',
    requestId: settled.id,
    kind,
    at: now,
    jobId: job.id,
    workerId: worker.id,
    workerName: worker.name,
    model: job.model,
    seed: String(body.seed),
    state: result.state,
    censored,
  });
  ctx.events.publish({
    scope: 'worker',
    type: 'completed',
    workerId: worker.id,
    workerName: worker.name,
    requestId: settled.id,
    jobId: job.id,
    reward: settlement.reward,
    at: now,
  });
  if (settled.state === 'done') {
    ctx.events.publish({
      scope: 'request',
      type: 'done',
      requestId: settled.id,
      kind,
      at: now,
      kudos: Math.round(settled.consumed / 100),
    });
  }
  ctx.logger.debug(
    { job: job.id, worker: worker.id, reward: settlement.reward, cost: settlement.cost, censored },
    'job settled',
  );
  return { reward: settlement.reward };
}
