/**
 * A worker as the matcher sees it: what its pop offers (requirement bits, sizes, models) and what its
 * bridge can do. Built from a fresh pop body, or from the profile stored at its last check-in (for
 * `is_possible`).
 */
import { bridgeProfile } from '../models/bridges.js';
import type { BridgeProfile } from '../models/types.js';
import type { ImagePopBody, TextPopBody } from '../requests/schemas.js';
import {
  type CandidateWorker,
  type MatchResult,
  matchImageCandidate,
  matchTextCandidate,
} from '../scheduler/matching.js';
import { imageOffers, textOffers } from '../scheduler/needs.js';
import { missingNeedReason } from '../scheduler/requirements.js';
import type {
  AccountRecord,
  CandidateQuery,
  RequestRecord,
  SkipReason,
  WorkerRecord,
} from '../storage/types.js';
import type { EngineContext } from './context.js';
import { workerSpeed } from './load.js';

export interface MatchingWorker {
  record: WorkerRecord;
  pop: ImagePopBody | TextPopBody;
  bridge: BridgeProfile;
  offers: number;
  candidate: CandidateWorker;
  /** Query fields for the queue index (without paging). */
  query: Omit<CandidateQuery, 'after' | 'limit' | 'countSkips' | 'ownerIds'>;
}

function isSpecialModel(name: string): boolean {
  return name.startsWith('horde_special::') || name.startsWith('SDXL_beta');
}

/** Text workers are slow below 3/4/5 tokens per second for models of ≥20B / ≥13B / smaller. */
function textFastThreshold(ctx: EngineContext, pop: TextPopBody): number {
  const size = pop.models[0] === undefined ? undefined : ctx.models.text(pop.models[0])?.parametersB;
  const [large, medium, small] = ctx.config.workers.slowTextSpeeds;
  if (size !== undefined && size >= 20) return large;
  if (size !== undefined && size >= 13) return medium;
  return small;
}

export function matchingWorker(
  ctx: EngineContext,
  record: WorkerRecord,
  pop: ImagePopBody | TextPopBody,
  owner: AccountRecord,
): MatchingWorker {
  const kind = record.kind;
  const bridge = bridgeProfile(pop.bridge_agent, {
    kind,
    permissiveUnknownBridges: ctx.config.workers.permissiveUnknownBridges,
  });
  const speed = workerSpeed(record, ctx.config.workers);
  const candidate: CandidateWorker = {
    id: record.id,
    bridge,
    models: ctx.models,
    blacklist: pop.blacklist.map((word) => word.toLowerCase()).filter(Boolean),
  };
  if (kind === 'image') {
    const imagePop = pop as ImagePopBody;
    const fast = speed >= ctx.config.workers.slowImageSpeed;
    const offers = imageOffers(imagePop, bridge, { trusted: owner.roles.trusted, fast });
    return {
      record,
      pop,
      bridge,
      offers,
      candidate,
      query: {
        kind,
        models: imagePop.models,
        acceptsAnyModel: !imagePop.models.some(isSpecialModel),
        offers,
        maxPixels: imagePop.max_pixels,
        maxLength: 0,
        maxContextLength: 0,
      },
    };
  }
  const textPop = pop as TextPopBody;
  const fast = speed >= textFastThreshold(ctx, textPop);
  const offers = textOffers(textPop, bridge, { trusted: owner.roles.trusted, fast });
  return {
    record,
    pop,
    bridge,
    offers,
    candidate,
    query: {
      kind,
      models: textPop.models,
      acceptsAnyModel: true,
      offers,
      maxPixels: 0,
      maxLength: textPop.max_length,
      maxContextLength: textPop.max_context_length,
    },
  };
}

/** The per-candidate checks for one request. */
export function matchCandidate(worker: MatchingWorker, request: RequestRecord): MatchResult {
  return worker.record.kind === 'image'
    ? matchImageCandidate(request, worker.pop as ImagePopBody, worker.candidate)
    : matchTextCandidate(request, worker.pop as TextPopBody, worker.candidate);
}

/** The indexable checks for one request (what the queue index does for whole partitions). */
export function indexableReason(worker: MatchingWorker, request: RequestRecord): SkipReason | null {
  const q = worker.query;
  if (request.kind !== q.kind) return 'models';
  if (request.models.length === 0 ? !q.acceptsAnyModel : !request.models.some((m) => q.models.includes(m))) {
    return 'models';
  }
  if (request.kind === 'image' && request.pixels > q.maxPixels) return 'max_pixels';
  if (request.kind === 'text') {
    if (request.maxLength > q.maxLength) return 'max_length';
    if (request.maxContextLength > q.maxContextLength) return 'max_context_length';
  }
  return missingNeedReason(request.needs, q.offers);
}
