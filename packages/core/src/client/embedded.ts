/** The `HordeClient` of an in-process horde: direct calls, and events straight from the engine's bus. */

import { ANONYMOUS_ID, assertActive } from '../engine/accounts.js';
import type { Horde } from '../engine/horde.js';
import { HordeError } from '../errors.js';
import { FINAL_REQUEST_EVENTS, type RequestEvent } from '../events/types.js';
import { accountAlias } from '../ids.js';
import { fromCenti } from '../ledger/money.js';
import type { AccountRecord } from '../storage/types.js';
import type { AccountSummary, HordeClient, ImageReader, KudosMovement, WatchOptions } from './types.js';

export function summarizeAccount(account: AccountRecord): AccountSummary {
  const details = Object.fromEntries(
    Object.entries(account.details).map(([bucket, value]) => [bucket, fromCenti(value)]),
  ) as unknown as AccountSummary['kudos_details'];
  return {
    id: account.id,
    username: account.username,
    alias: accountAlias(account),
    kudos: fromCenti(account.balance),
    escrow: fromCenti(account.escrow),
    kudos_details: details,
    concurrency: account.concurrency,
    trusted: account.roles.trusted,
    moderator: account.roles.moderator,
    active_jobs: account.activeJobs,
  };
}

/** Events of one request as an async iterable; ends after a final event or when `signal` aborts. */
export async function* watchRequest(
  horde: Horde,
  requestId: string,
  options: WatchOptions = {},
): AsyncGenerator<RequestEvent> {
  const queue: RequestEvent[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = horde.onRequest(requestId, (event) => {
    queue.push(event);
    wake?.();
  });
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    // A request that already ended has no more events: report its end once.
    const status = await horde.checkRequest(requestId);
    if (status.done) {
      const request = await horde.store.getRequest(requestId);
      const at = horde.clock.now();
      const kind = request?.kind ?? 'image';
      if (status.faulted) yield { type: 'faulted', requestId, kind, at };
      else if (request?.state === 'cancelled') yield { type: 'cancelled', requestId, kind, at };
      else yield { type: 'done', requestId, kind, at, kudos: status.kudos };
      return;
    }
    while (!options.signal?.aborted) {
      const event = queue.shift();
      if (!event) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      yield event;
      if (FINAL_REQUEST_EVENTS.has(event.type)) return;
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function activeAccount(account: AccountRecord): AccountRecord {
  assertActive(account);
  return account;
}

export interface EmbeddedClientOptions {
  /**
   * Where uploaded images are (the server's image store, e.g. `blobImageReader(blobs)` from
   * `@hordekit/horde-server`). Without it only inline (base64) results can be read.
   */
  readImage?: ImageReader;
}

export function createEmbeddedClient(horde: Horde, options: EmbeddedClientOptions = {}): HordeClient {
  return {
    generateImage: (as, input) => horde.generateImage(as, input),
    generateText: (as, input) => horde.generateText(as, input),
    check: (id) => horde.checkRequest(id),
    status: (id) => horde.requestStatus(id),
    cancel: (id) => horde.cancelRequest(id),
    watch: (id, options) => watchRequest(horde, id, options),
    account: async (as) => summarizeAccount(await horde.authenticate(as)),
    async activity(as, options = {}) {
      const account = await horde.authenticate(as);
      const entries = await horde.store.readJournal({ accountId: account.id });
      return entries
        .slice(-(options.limit ?? 10))
        .reverse()
        .map(
          (e): KudosMovement => ({
            at: e.at,
            kind: e.kind,
            amount: fromCenti(e.balanceDelta),
            escrow: fromCenti(e.escrowDelta),
            ref: e.ref,
          }),
        );
    },
    transfer: (as, input) =>
      horde.transfer(as, {
        to: input.to,
        amount: input.amount,
        idempotencyKey: input.idempotencyKey ?? null,
      }),
    async accountFor(identity) {
      const { account, created } = await horde.accountForIdentity(identity.provider, identity.externalId, {
        username: identity.username,
      });
      return { credentials: { accountId: account.id }, account: summarizeAccount(account), created };
    },
    async workerKey(as) {
      const account = activeAccount(await horde.authenticate(as));
      return horde.rotateApiKey(account.id);
    },
    async linkIdentity(as, identity) {
      if (!identity.provider || !identity.externalId) {
        throw new HordeError('BadRequest', 'An identity needs a provider and an id.');
      }
      const account = activeAccount(await horde.authenticate(as));
      if (account.id === ANONYMOUS_ID) {
        throw new HordeError('AnonForbidden', 'Identities cannot be linked to the anonymous account.');
      }
      await horde.store.linkIdentity(account.id, identity.provider, identity.externalId);
      return summarizeAccount(account);
    },
    models: (kind) => horde.modelStatuses(kind ?? 'image'),
    workers: (kind) => horde.listWorkers(kind),
    async image(generation) {
      if (generation.generation !== 'R2') {
        const inline = Buffer.from(generation.generation, 'base64');
        if (inline.length > 0) return inline;
      } else {
        const stored = await options.readImage?.(generation.id);
        if (stored) return stored;
      }
      throw new HordeError('RequestNotFound', `The image of job ${generation.id} is no longer available.`);
    },
  };
}
