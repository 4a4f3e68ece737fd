/** Worker registry: check-ins (auto-create on first pop), edits, uptime rewards. */

import type { Centikudos } from '../../ledger/money.js';
import { refuse } from '../../storage/refusals.js';
import type {
  CheckInOp,
  UptimeOp,
  WorkerPatch,
  WorkerProfile,
  WorkerQuery,
  WorkerRecord,
} from '../../storage/types.js';
import { addToBucket, requireAccount } from './accounts.js';
import { workerToRow } from './rows.js';
import { type SqliteState, saveAccountMoney, saveWorkerProgress, snapshot, writeJournal } from './state.js';

export function requireWorker(s: SqliteState, id: string): WorkerRecord {
  const worker = s.workers.get(id);
  if (!worker) throw refuse.unknownWorker(id);
  return worker;
}

export function getWorkerByName(s: SqliteState, name: string): WorkerRecord | undefined {
  const id = s.workerIdByName.get(name.toLowerCase());
  const worker = id === undefined ? undefined : s.workers.get(String(id));
  return worker ? snapshot(worker) : undefined;
}

export function checkInWorker(s: SqliteState, op: CheckInOp): WorkerRecord {
  const existingId = s.workerIdByName.get(op.name.toLowerCase());
  const existing = existingId === undefined ? undefined : s.workers.get(String(existingId));

  if (!existing) {
    let owned = 0;
    for (const w of s.workers.values()) if (w.ownerId === op.ownerId) owned++;
    if (owned >= op.maxWorkers) {
      throw refuse.tooManyWorkers(owned, op.maxWorkers);
    }
    const worker: WorkerRecord = {
      id: op.newId,
      name: op.name,
      kind: op.kind,
      ownerId: op.ownerId,
      createdAt: op.now,
      lastCheckIn: op.now,
      onlineSince: op.now,
      uptimeCreditedAt: op.now,
      profile: op.profile,
      maintenance: false,
      maintenanceMessage: null,
      paused: false,
      info: null,
      speedSamples: [],
      stats: {
        requestsFulfilled: 0,
        kudosGenerated: 0,
        kudosUptime: 0,
        thingsGenerated: 0,
        uncompletedJobs: 0,
      },
      recentAborts: [],
    };
    s.atomically(() => s.stmt.insertWorker.run(workerToRow(worker)));
    s.workers.set(worker.id, worker);
    s.workerIdByName.set(op.name.toLowerCase(), worker.id);
    s.persistedCheckIn.set(worker.id, op.now);
    return snapshot(worker);
  }

  if (existing.ownerId !== op.ownerId) {
    throw refuse.workerOfAnotherOwner(existing.id);
  }
  if (existing.kind !== op.kind) {
    throw refuse.workerOfAnotherKind(existing.id, existing.kind, op.kind);
  }
  const changed = !sameProfile(existing.profile, op.profile);
  // A gap longer than the online window breaks continuous uptime.
  const wasOnline = op.now - existing.lastCheckIn <= op.onlineWindowMs;
  const next: WorkerRecord = {
    ...existing,
    lastCheckIn: op.now,
    onlineSince: wasOnline ? existing.onlineSince : op.now,
    // Uptime accrues only while online and serving: a gap, maintenance or a pause restarts its clock.
    uptimeCreditedAt:
      wasOnline && !existing.maintenance && !existing.paused ? existing.uptimeCreditedAt : op.now,
    // An unchanged profile keeps its (already frozen) object: pops repeat the same body every second.
    profile: changed ? op.profile : existing.profile,
  };
  const persistedAt = s.persistedCheckIn.get(existing.id);
  const due =
    persistedAt === undefined || !wasOnline || changed || op.now - persistedAt >= s.checkInWriteIntervalMs;
  if (due) {
    s.atomically(() => s.stmt.saveWorker.run(workerToRow(next)));
    s.persistedCheckIn.set(existing.id, op.now);
  }
  s.workers.set(next.id, next);
  return snapshot(next);
}

export function listWorkers(s: SqliteState, query: WorkerQuery = {}): WorkerRecord[] {
  const out: WorkerRecord[] = [];
  for (const w of s.workers.values()) {
    if (query.kind && w.kind !== query.kind) continue;
    if (query.ownerId !== undefined && w.ownerId !== query.ownerId) continue;
    if (query.onlineSince !== undefined && w.lastCheckIn < query.onlineSince) continue;
    if (query.name !== undefined && w.name.toLowerCase() !== query.name.toLowerCase()) continue;
    out.push(snapshot(w));
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
}

export function updateWorker(s: SqliteState, id: string, patch: WorkerPatch): WorkerRecord {
  const current = requireWorker(s, id);
  if (patch.name !== undefined && patch.name.toLowerCase() !== current.name.toLowerCase()) {
    if (s.workerIdByName.has(patch.name.toLowerCase())) {
      throw refuse.workerNameTaken();
    }
  }
  const next: WorkerRecord = {
    ...current,
    name: patch.name ?? current.name,
    maintenance: patch.maintenance ?? current.maintenance,
    maintenanceMessage:
      patch.maintenanceMessage === undefined ? current.maintenanceMessage : patch.maintenanceMessage,
    paused: patch.paused ?? current.paused,
    info: patch.info === undefined ? current.info : patch.info,
  };
  s.atomically(() => s.stmt.saveWorker.run(workerToRow(next)));
  s.persistedCheckIn.set(id, next.lastCheckIn);
  if (next.name !== current.name) {
    s.workerIdByName.delete(current.name.toLowerCase());
    s.workerIdByName.set(next.name.toLowerCase(), id);
  }
  s.workers.set(id, next);
  return snapshot(next);
}

export function deleteWorker(s: SqliteState, id: string): boolean {
  const worker = s.workers.get(id);
  if (!worker) return false;
  s.atomically(() => s.stmt.deleteWorker.run(id));
  s.workers.delete(id);
  s.workerIdByName.delete(worker.name.toLowerCase());
  s.persistedCheckIn.delete(id);
  return true;
}

export function creditUptime(s: SqliteState, op: UptimeOp): Centikudos {
  const worker = requireWorker(s, op.workerId);
  if (op.now - worker.uptimeCreditedAt < op.periodMs) return 0;
  const owner = requireAccount(s, worker.ownerId);
  const total = op.reward + op.escrow;
  const nextWorker: WorkerRecord = {
    ...worker,
    uptimeCreditedAt: worker.uptimeCreditedAt + op.periodMs,
    stats: { ...worker.stats, kudosUptime: worker.stats.kudosUptime + total },
  };
  const nextOwner = {
    ...owner,
    balance: owner.balance + op.reward,
    escrow: owner.escrow + op.escrow,
    details: addToBucket(owner.details, 'accumulated', op.reward),
  };
  s.atomically(() => {
    saveWorkerProgress(s, nextWorker);
    saveAccountMoney(s, nextOwner);
    writeJournal(s, [
      {
        at: op.now,
        accountId: owner.id,
        kind: 'uptime',
        balanceDelta: op.reward,
        escrowDelta: op.escrow,
        bucket: 'accumulated',
        ref: worker.id,
      },
    ]);
  });
  s.workers.set(worker.id, nextWorker);
  s.accounts.set(owner.id, nextOwner);
  return total;
}

/** Writes the check-ins that were kept in memory only (they are throttled), e.g. before closing. */
export function flushCheckIns(s: SqliteState): void {
  s.atomically(() => {
    for (const worker of s.workers.values()) {
      const persistedAt = s.persistedCheckIn.get(worker.id);
      if (persistedAt !== undefined && persistedAt >= worker.lastCheckIn) continue;
      s.stmt.saveWorker.run(workerToRow(worker));
      s.persistedCheckIn.set(worker.id, worker.lastCheckIn);
    }
  });
}

/** Profiles hold primitives and arrays of primitives: compared field by field, without serialising. */
function sameProfile(a: WorkerProfile, b: WorkerProfile): boolean {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) {
    const x = left[key];
    const y = right[key];
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    } else if (x !== y) {
      return false;
    }
  }
  return true;
}
