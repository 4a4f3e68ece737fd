/**
 * The AI Horde's wire answers as core's shapes. Core's `HordeClient` types follow the wire, so most fields
 * pass through; these functions fill what a remote horde leaves out (older servers, fields the public horde
 * shows only to moderators) with neutral values, and turn numbers that are strings into strings.
 */
import type {
  AccountSummary,
  GenerationState,
  ModelStatus,
  RequestCheck,
  RequestKind,
  RequestStatus,
  WorkerView,
} from '@hordekit/core';

type Generation = RequestStatus['generations'][number];

/** `/generate/check/{id}`, and the counters of every status answer (all optional in the SDK's typings). */
export interface WireCheck {
  finished?: number;
  processing?: number;
  restarted?: number;
  waiting?: number;
  done?: boolean;
  faulted?: boolean;
  wait_time?: number;
  queue_position?: number;
  kudos?: number;
  is_possible?: boolean;
}

/** One generation of a status answer: image (`img`, string seed) or text (`text`, number seed). */
export interface WireGeneration {
  id?: string;
  worker_id?: string;
  worker_name?: string;
  model?: string;
  seed?: string | number;
  state?: string;
  censored?: boolean;
  gen_metadata?: { type: string; value: string; ref?: string }[];
  img?: string;
  text?: string;
}

export interface WireStatus extends WireCheck {
  generations?: WireGeneration[];
}

export function toCheck(wire: WireCheck): RequestCheck {
  return {
    finished: wire.finished ?? 0,
    processing: wire.processing ?? 0,
    restarted: wire.restarted ?? 0,
    waiting: wire.waiting ?? 0,
    done: wire.done ?? false,
    faulted: wire.faulted ?? false,
    wait_time: wire.wait_time ?? 0,
    queue_position: wire.queue_position ?? 0,
    kudos: wire.kudos ?? 0,
    is_possible: wire.is_possible ?? true,
  };
}

const STATES: ReadonlySet<string> = new Set<GenerationState>(['ok', 'faulted', 'censored', 'csam']);

/**
 * A status answer in core's shape. `generation` is the wire `img` (a download URL when the request had
 * `r2: true`, else base64 WebP) or the generated text. The wire has no completion time: `completed_at` is
 * when this answer was read.
 */
export function toStatus(wire: WireStatus, kind: RequestKind, now = Date.now()): RequestStatus {
  return {
    ...toCheck(wire),
    generations: (wire.generations ?? []).map(
      (generation): Generation => ({
        id: generation.id ?? '',
        kind,
        worker_id: generation.worker_id ?? '',
        worker_name: generation.worker_name ?? '',
        model: generation.model ?? '',
        seed: generation.seed === undefined ? '' : String(generation.seed),
        state:
          generation.state && STATES.has(generation.state)
            ? (generation.state as GenerationState)
            : generation.censored
              ? 'censored'
              : 'ok',
        censored: generation.censored ?? false,
        gen_metadata: generation.gen_metadata ?? [],
        generation: (kind === 'image' ? generation.img : generation.text) ?? '',
        completed_at: now,
      }),
    ),
  };
}

/** `GET /find_user` (the key's own account, so `active_generations` is there when the horde has it). */
export interface WireUser {
  id?: number;
  username?: string;
  kudos?: number;
  concurrency?: number;
  trusted?: boolean;
  moderator?: boolean;
  kudos_details?: Partial<Record<keyof AccountSummary['kudos_details'], number>>;
  active_generations?: Record<string, string[] | undefined>;
}

/**
 * The account summary of a remote user. On the horde `username` is already the alias `name#id`; the bare
 * name is what precedes the `#id`. Escrow is a hordekit idea the public horde does not have (and hordekit
 * shows it to moderators only): 0.
 */
export function toAccount(wire: WireUser): AccountSummary {
  const id = wire.id ?? 0;
  const alias = wire.username ?? `Anonymous#${id}`;
  const suffix = `#${id}`;
  const details = wire.kudos_details ?? {};
  const active = Object.values(wire.active_generations ?? {}).reduce(
    (sum, ids) => sum + (ids?.length ?? 0),
    0,
  );
  return {
    id,
    username: alias.endsWith(suffix) ? alias.slice(0, -suffix.length) : alias,
    alias,
    kudos: wire.kudos ?? 0,
    escrow: 0,
    kudos_details: {
      accumulated: details.accumulated ?? 0,
      gifted: details.gifted ?? 0,
      donated: details.donated ?? 0,
      admin: details.admin ?? 0,
      received: details.received ?? 0,
      recurring: details.recurring ?? 0,
      awarded: details.awarded ?? 0,
      styled: details.styled ?? 0,
    },
    concurrency: wire.concurrency ?? 0,
    trusted: wire.trusted ?? false,
    moderator: wire.moderator ?? false,
    active_jobs: active,
  };
}

/** `GET /status/models?type=…`: already core's shape on the wire. */
export type WireModel = Partial<ModelStatus>;

export function toModel(wire: WireModel, kind: RequestKind): ModelStatus {
  return {
    name: wire.name ?? '',
    count: wire.count ?? 0,
    performance: wire.performance ?? 0,
    queued: wire.queued ?? 0,
    jobs: wire.jobs ?? 0,
    eta: wire.eta ?? 0,
    type: wire.type ?? kind,
  };
}

/** One entry of `GET /workers` (the SDK types it without `type`, which the wire has). */
export type WireWorker = Partial<Omit<WorkerView, 'type' | 'kudos_details' | 'info'>> & {
  type?: string;
  info?: string | null;
  kudos_details?: Partial<WorkerView['kudos_details']>;
  owner?: string;
};

/**
 * A worker in core's shape. The wire has no owner id (only the owner's alias, when public), no `speed`
 * and no `paused` for non-moderators: the owner id is read from the alias when there, else 0.
 */
export function toWorker(wire: WireWorker): WorkerView {
  const type: RequestKind = wire.type === 'text' ? 'text' : 'image';
  const ownerId = Number(/#(\d+)$/.exec(wire.owner ?? '')?.[1] ?? 0);
  const { type: _type, owner: _owner, kudos_details, ...rest } = wire;
  return {
    ...rest,
    type,
    name: wire.name ?? '',
    id: wire.id ?? '',
    owner_id: ownerId,
    online: wire.online ?? false,
    requests_fulfilled: wire.requests_fulfilled ?? 0,
    kudos_rewards: wire.kudos_rewards ?? 0,
    kudos_details: { generated: kudos_details?.generated ?? 0, uptime: kudos_details?.uptime ?? 0 },
    performance: wire.performance ?? '',
    speed: wire.speed ?? 0,
    threads: wire.threads ?? 1,
    uptime: wire.uptime ?? 0,
    maintenance_mode: wire.maintenance_mode ?? false,
    paused: wire.paused ?? false,
    info: wire.info ?? null,
    nsfw: wire.nsfw ?? false,
    trusted: wire.trusted ?? false,
    flagged: wire.flagged ?? false,
    uncompleted_jobs: wire.uncompleted_jobs ?? 0,
    models: wire.models ?? [],
    bridge_agent: wire.bridge_agent ?? 'unknown:0:unknown',
  };
}
