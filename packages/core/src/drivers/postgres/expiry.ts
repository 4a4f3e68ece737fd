/**
 * How requests end without a worker: cancelled by their owner, expired by the leader's sweep (and the
 * stale leases that sweep turns into failures).
 */
import type { JobRecord, RequestRecord } from '../../storage/types.js';
import { addToStripe } from './money.js';
import { jobFromRow, requestFromRow } from './rows.js';
import { releaseReservation, saveRequestCounters } from './settle.js';
import type { Db } from './tx.js';

export async function listExpiredLeases(db: Db, now: number, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM jobs WHERE state = 'processing' AND lease_expires_at <= $1 ORDER BY lease_expires_at LIMIT $2`,
    [now, limit],
  );
  return rows.map(jobFromRow);
}

export async function cancelRequest(db: Db, id: string): Promise<RequestRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM requests WHERE id = $1 FOR UPDATE', [id]);
  if (!rows[0] || rows[0].state === 'expired') return undefined;
  const request = requestFromRow(rows[0]);
  if (request.state !== 'active') return request;
  const released = releaseReservation({
    ...request,
    jobs: request.finished + request.processing,
    waiting: 0,
    state: 'cancelled',
  });
  await saveRequestCounters(db, released.request);
  await addToStripe(db, request.accountId, rows[0].stripe, {
    active: -request.waiting,
    reserved: -released.release,
  });
  return request;
}

/**
 * Requests past their expiry with no job in flight become `expired`, their jobs deleted; the account
 * changes are applied after, in account order. Rows another transaction holds are left for the next pass.
 */
export async function expireRequests(
  db: Db,
  now: number,
  limit: number,
  expiredRetentionMs: number,
): Promise<RequestRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM requests WHERE state <> 'expired' AND expires_at <= $1 AND processing = 0
     ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  const expired = rows
    .map(requestFromRow)
    .map((r) => ({ ...r, state: 'expired' as const, waiting: 0, reserved: 0 }));
  const changes = new Map<string, { accountId: number; stripe: number; active: number; reserved: number }>();
  for (const row of rows) {
    const key = `${row.account_id}:${row.stripe}`;
    const change = changes.get(key) ?? {
      accountId: row.account_id,
      stripe: row.stripe,
      active: 0,
      reserved: 0,
    };
    change.active -= row.waiting;
    change.reserved -= row.reserved;
    changes.set(key, change);
  }
  if (expired.length > 0) {
    const ids = expired.map((r) => r.id);
    await db.query(
      "UPDATE requests SET state = 'expired', waiting = 0, reserved = 0 WHERE id = ANY($1::text[])",
      [ids],
    );
    await db.query('DELETE FROM jobs WHERE request_id = ANY($1::text[])', [ids]);
    const ordered = [...changes.values()].sort((a, b) => a.accountId - b.accountId || a.stripe - b.stripe);
    for (const change of ordered) {
      if (change.active === 0 && change.reserved === 0) continue;
      await addToStripe(db, change.accountId, change.stripe, {
        active: change.active,
        reserved: change.reserved,
      });
    }
  }
  // Tombstones of requests that expired long ago go, oldest first, a bounded batch per sweep.
  await db.query(
    `DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE state = 'expired' AND expires_at <= $1
       ORDER BY expires_at LIMIT 10000 FOR UPDATE SKIP LOCKED)`,
    [now - expiredRetentionMs],
  );
  return expired;
}
