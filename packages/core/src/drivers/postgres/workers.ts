/** Worker registry on PostgreSQL: check-ins (auto-create on first pop), edits, uptime rewards. */

import type { Centikudos } from '../../ledger/money.js';
import { refuse } from '../../storage/refusals.js';
import type { CheckInOp, UptimeOp, WorkerPatch, WorkerQuery, WorkerRecord } from '../../storage/types.js';
import { stripesOf, writeJournal } from './accounts.js';
import { anyStripe, creditAccount } from './money.js';
import { workerFromRow } from './rows.js';
import { type Db, isUniqueViolation, Retry } from './tx.js';

export async function getWorker(db: Db, id: string): Promise<WorkerRecord | undefined> {
  const { rows } = await db.query({
    name: 'hk_worker_get',
    text: 'SELECT * FROM workers WHERE id = $1',
    values: [id],
  });
  return rows[0] ? workerFromRow(rows[0]) : undefined;
}

export async function getWorkerByName(db: Db, name: string): Promise<WorkerRecord | undefined> {
  const { rows } = await db.query({
    name: 'hk_worker_by_name',
    text: 'SELECT * FROM workers WHERE lower(name) = lower($1)',
    values: [name],
  });
  return rows[0] ? workerFromRow(rows[0]) : undefined;
}

/**
 * A pop's check-in of a worker that exists, is its owner's and of its kind — nearly every pop — as one
 * statement (no transaction around it); undefined otherwise, and `checkInWorker` decides.
 */
export async function quickCheckIn(db: Db, op: CheckInOp): Promise<WorkerRecord | undefined> {
  const { rows } = await db.query({
    name: 'hk_worker_quick_check_in',
    text: `UPDATE workers SET last_check_in = $4,
        online_since = CASE WHEN $4 - last_check_in <= $5 THEN online_since ELSE $4 END,
        uptime_credited_at = CASE WHEN $4 - last_check_in <= $5 AND NOT maintenance AND NOT paused
          THEN uptime_credited_at ELSE $4 END,
        profile = $6
      WHERE lower(name) = lower($1) AND owner_id = $2 AND kind = $3
      RETURNING *`,
    values: [op.name, op.ownerId, op.kind, op.now, op.onlineWindowMs, JSON.stringify(op.profile)],
  });
  return rows[0] ? workerFromRow(rows[0]) : undefined;
}

export async function checkInWorker(db: Db, op: CheckInOp): Promise<WorkerRecord> {
  const { rows } = await db.query({
    name: 'hk_worker_lock_by_name',
    text: 'SELECT * FROM workers WHERE lower(name) = lower($1) FOR UPDATE',
    values: [op.name],
  });
  if (!rows[0]) return createWorker(db, op);
  const existing = workerFromRow(rows[0]);
  if (existing.ownerId !== op.ownerId) {
    throw refuse.workerOfAnotherOwner(existing.id);
  }
  if (existing.kind !== op.kind) {
    throw refuse.workerOfAnotherKind(existing.id, existing.kind, op.kind);
  }
  // A gap longer than the online window breaks continuous uptime; maintenance or a pause restarts its clock.
  const wasOnline = op.now - existing.lastCheckIn <= op.onlineWindowMs;
  const { rows: updated } = await db.query({
    name: 'hk_worker_check_in',
    text: `UPDATE workers SET last_check_in = $2, online_since = $3, uptime_credited_at = $4, profile = $5
      WHERE id = $1 RETURNING *`,
    values: [
      existing.id,
      op.now,
      wasOnline ? existing.onlineSince : op.now,
      wasOnline && !existing.maintenance && !existing.paused ? existing.uptimeCreditedAt : op.now,
      JSON.stringify(op.profile),
    ],
  });
  return workerFromRow(updated[0]!);
}

async function createWorker(db: Db, op: CheckInOp): Promise<WorkerRecord> {
  const { rows: owned } = await db.query<{ count: number }>(
    'SELECT count(*)::integer AS count FROM workers WHERE owner_id = $1',
    [op.ownerId],
  );
  const count = owned[0]!.count;
  if (count >= op.maxWorkers) {
    throw refuse.tooManyWorkers(count, op.maxWorkers);
  }
  try {
    const { rows } = await db.query(
      `INSERT INTO workers (id, name, kind, owner_id, created_at, last_check_in, online_since, uptime_credited_at, profile)
       VALUES ($1, $2, $3, $4, $5, $5, $5, $5, $6) RETURNING *`,
      [op.newId, op.name, op.kind, op.ownerId, op.now, JSON.stringify(op.profile)],
    );
    return workerFromRow(rows[0]!);
  } catch (error) {
    // Two first pops with one name at once: run again, and the second finds the worker.
    if (isUniqueViolation(error, 'workers_name')) throw new Retry();
    throw error;
  }
}

export async function listWorkers(db: Db, query: WorkerQuery = {}): Promise<WorkerRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM workers
     WHERE ($1::text IS NULL OR kind = $1) AND ($2::bigint IS NULL OR owner_id = $2)
       AND ($3::bigint IS NULL OR last_check_in >= $3) AND ($4::text IS NULL OR lower(name) = lower($4))`,
    [query.kind ?? null, query.ownerId ?? null, query.onlineSince ?? null, query.name ?? null],
  );
  return rows.map(workerFromRow).sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
}

export async function updateWorker(db: Db, id: string, patch: WorkerPatch): Promise<WorkerRecord> {
  const { rows } = await db.query('SELECT * FROM workers WHERE id = $1 FOR UPDATE', [id]);
  if (!rows[0]) throw refuse.unknownWorker(id);
  const current = workerFromRow(rows[0]);
  try {
    const { rows: updated } = await db.query(
      `UPDATE workers SET name = $2, maintenance = $3, maintenance_message = $4, paused = $5, info = $6
       WHERE id = $1 RETURNING *`,
      [
        id,
        patch.name ?? current.name,
        patch.maintenance ?? current.maintenance,
        patch.maintenanceMessage === undefined ? current.maintenanceMessage : patch.maintenanceMessage,
        patch.paused ?? current.paused,
        patch.info === undefined ? current.info : patch.info,
      ],
    );
    return workerFromRow(updated[0]!);
  } catch (error) {
    if (isUniqueViolation(error, 'workers_name')) {
      throw refuse.workerNameTaken();
    }
    throw error;
  }
}

export async function deleteWorker(db: Db, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM workers WHERE id = $1', [id]);
  return rowCount === 1;
}

export async function creditUptime(db: Db, op: UptimeOp): Promise<Centikudos> {
  const { rows } = await db.query('SELECT * FROM workers WHERE id = $1 FOR UPDATE', [op.workerId]);
  if (!rows[0]) throw refuse.unknownWorker(op.workerId);
  const worker = workerFromRow(rows[0]);
  if (op.now - worker.uptimeCreditedAt < op.periodMs) return 0;
  const total = op.reward + op.escrow;
  await db.query(
    'UPDATE workers SET uptime_credited_at = uptime_credited_at + $2, kudos_uptime = kudos_uptime + $3 WHERE id = $1',
    [worker.id, op.periodMs, total],
  );
  await creditAccount(db, worker.ownerId, anyStripe(await stripesOf(db, worker.ownerId)), {
    balance: op.reward,
    escrow: op.escrow,
    details: { accumulated: op.reward },
  });
  await writeJournal(db, [
    {
      at: op.now,
      accountId: worker.ownerId,
      kind: 'uptime',
      balanceDelta: op.reward,
      escrowDelta: op.escrow,
      bucket: 'accumulated',
      ref: worker.id,
    },
  ]);
  return total;
}
