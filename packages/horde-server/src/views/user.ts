/**
 * `UserDetails` as the AI Horde shows it (spec §1.4), at three privilege levels: 0 for anyone, 1 for the
 * account itself, 2 for moderators. Fields hordekit has no feature for (styles, shared keys, monthly
 * kudos) are present with empty values so that clients parsing them keep working.
 */
import { type AccountRecord, fromCenti, type Horde } from '@hordekit/core';

export type Privilege = 0 | 1 | 2;

export async function userDetails(horde: Horde, account: AccountRecord, privilege: Privilege) {
  const workers = await horde.store.listWorkers({ ownerId: account.id });
  const d = account.details;
  const details: Record<string, unknown> = {
    username: `${account.username}#${account.id}`,
    id: account.id,
    kudos: fromCenti(account.balance),
    kudos_details: {
      accumulated: fromCenti(d.accumulated),
      gifted: fromCenti(d.gifted),
      donated: fromCenti(d.donated),
      admin: fromCenti(d.admin),
      received: fromCenti(d.received),
      recurring: fromCenti(d.recurring),
      awarded: fromCenti(d.awarded),
      styled: fromCenti(d.styled),
    },
    records: {
      usage: { megapixelsteps: round(account.usage.megapixelsteps), tokens: account.usage.tokens },
      contribution: {
        megapixelsteps: round(account.contribution.megapixelsteps),
        tokens: account.contribution.tokens,
      },
      fulfillment: {
        image: account.contribution.imagesFulfilled,
        text: account.contribution.textsFulfilled,
        interrogation: 0,
      },
      request: { image: account.usage.imageRequests, text: account.usage.textRequests, interrogation: 0 },
      style: { image: 0, text: 0 },
    },
    usage: {},
    contributions: {},
    concurrency: account.concurrency,
    worker_invited: 0,
    moderator: account.roles.moderator,
    trusted: account.roles.trusted,
    flagged: account.roles.flagged,
    pseudonymous: account.kind === 'pseudonymous',
    worker_count: workers.length,
    account_age: Math.max(0, Math.floor((horde.clock.now() - account.createdAt) / 1000)),
    service: account.roles.service,
    deleted: account.roles.deleted,
    education: account.roles.education,
    customizer: account.roles.customizer,
    styles: [],
  };
  if (account.publicWorkers || privilege >= 1) details.worker_ids = workers.map((worker) => worker.id);
  if (privilege >= 1) {
    const active = await horde.store.listAccountRequests(account.id);
    details.sharedkey_ids = [];
    details.contact = account.contact;
    details.vpn = account.roles.vpn;
    details.special = account.roles.special;
    details.active_generations = {
      image: active.filter((request) => request.kind === 'image').map((request) => request.id),
      text: active.filter((request) => request.kind === 'text').map((request) => request.id),
      alchemy: [],
    };
  }
  if (privilege >= 2) {
    details.evaluating_kudos = fromCenti(account.escrow);
    details.monthly_kudos = { amount: 0, last_received: null };
    details.suspicious = 0;
    details.admin_comment = null;
  }
  return details;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
