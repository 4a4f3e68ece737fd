/**
 * A worker as the matcher sees it: what its pop offers (requirement bits, sizes, models) and what its
 * bridge can do. Built from a fresh pop, or from the profile stored at its last check-in (for
 * `is_possible`).
 */
import { bridgeProfile } from '../models/bridges.js';
import type { BridgeProfile } from '../models/types.js';
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
  TextWorkerProfile,
  WorkerProfile,
  WorkerRecord,
} from '../storage/types.js';
import type { EngineContext } from './context.js';
import { workerSpeed } from './load.js';

export interface MatchingWorker {
  record: WorkerRecord;
  profile: WorkerProfile;
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
function textFastThreshold(ctx: EngineContext, profile: TextWorkerProfile): number {
  const size = profile.models[0] === undefined ? undefined : ctx.models.text(profile.models[0])?.parametersB;
  const [large, medium, small] = ctx.config.workers.slowTextSpeeds;
  if (size !== undefined && size >= 20) return large;
  if (size !== undefined && size >= 13) return medium;
  return small;
}

export function matchingWorker(
  ctx: EngineContext,
  record: WorkerRecord,
  profile: WorkerProfile,
  owner: AccountRecord,
): MatchingWorker {
  const bridge = bridgeProfile(profile.bridge_agent, {
    kind: profile.kind,
    permissiveUnknownBridges: ctx.config.workers.permissiveUnknownBridges,
  });
  const speed = workerSpeed(record, ctx.config.workers);
  const candidate: CandidateWorker = {
    id: record.id,
    bridge,
    models: ctx.models,
    blacklist: profile.blacklist.map((word) => word.toLowerCase()).filter(Boolean),
  };
  if (profile.kind === 'image') {
    const fast = speed >= ctx.config.workers.slowImageSpeed;
    const offers = imageOffers(profile, bridge, { trusted: owner.roles.trusted, fast });
    const query = {
      kind: 'image' as const,
      models: profile.models,
      acceptsAnyModel: !profile.models.some(isSpecialModel),
      offers,
      maxPixels: profile.max_pixels,
      maxLength: 0,
      maxContextLength: 0,
    };
    return { record, profile, bridge, offers, candidate, query };
  }
  const fast = speed >= textFastThreshold(ctx, profile);
  const offers = textOffers(profile, bridge, { trusted: owner.roles.trusted, fast });
  const query = {
    kind: 'text' as const,
    models: profile.models,
    acceptsAnyModel: true,
    offers,
    maxPixels: 0,
    maxLength: profile.max_length,
    maxContextLength: profile.max_context_length,
  };
  return { record, profile, bridge, offers, candidate, query };
}

/** The per-candidate checks for one request. */
export function matchCandidate(worker: MatchingWorker, request: RequestRecord): MatchResult {
  const { profile } = worker;
  return profile.kind === 'image'
    ? matchImageCandidate(request, profile, worker.candidate)
    : matchTextCandidate(request, profile, worker.candidate);
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
