/** Accounts, identities and every kudos movement that is not a job (transfers, grants, escrow). */

import { refuse } from '../../storage/refusals.js';
import {
  addToBucket,
  debitWithFloor,
  transferDone,
  transferJournal,
  ZERO_DETAILS,
} from '../../storage/rules.js';
import type {
  AccountPatch,
  AccountRecord,
  BalanceAdjustment,
  JournalEntry,
  NewAccount,
  TransferOp,
  TransferResult,
} from '../../storage/types.js';
import { accountToRow, emptyRoles, type TransferRow, transferFromRow } from './rows.js';
import { identityKey, type SqliteState, saveAccountMoney, snapshot, writeJournal } from './state.js';

export function requireAccount(s: SqliteState, id: number): AccountRecord {
  const account = s.accounts.get(id);
  if (!account) throw refuse.unknownAccount(id);
  return account;
}

export function createAccount(s: SqliteState, input: NewAccount): AccountRecord {
  const id = input.id ?? s.nextAccountId;
  if (s.accounts.has(id)) throw refuse.accountIdTaken(id);
  if (input.apiKeyHash && s.accountIdByKeyHash.has(input.apiKeyHash)) {
    throw refuse.apiKeyTaken();
  }
  const identity = input.identity && identityKey(input.identity.provider, input.identity.externalId);
  if (identity && s.identities.has(identity)) {
    throw refuse.identityTaken();
  }
  const account: AccountRecord = {
    id,
    username: input.username,
    kind: input.kind,
    roles: { ...emptyRoles(), ...input.roles },
    createdAt: input.createdAt,
    concurrency: input.concurrency,
    balance: 0,
    escrow: 0,
    reserved: 0,
    details: { ...ZERO_DETAILS },
    usage: { megapixelsteps: 0, tokens: 0, imageRequests: 0, textRequests: 0 },
    contribution: { megapixelsteps: 0, tokens: 0, imagesFulfilled: 0, textsFulfilled: 0 },
    activeJobs: 0,
    contact: null,
    publicWorkers: false,
  };
  s.atomically(() => {
    s.stmt.insertAccount.run(accountToRow(account, input.apiKeyHash));
    if (input.identity) s.stmt.insertIdentity.run(input.identity.provider, input.identity.externalId, id);
  });
  s.accounts.set(id, account);
  if (identity) s.identities.set(identity, id);
  if (input.apiKeyHash) s.accountIdByKeyHash.set(input.apiKeyHash, id);
  s.nextAccountId = Math.max(s.nextAccountId, id + 1);
  return snapshot(account);
}

export function updateAccount(s: SqliteState, id: number, patch: AccountPatch): AccountRecord {
  const current = requireAccount(s, id);
  const next: AccountRecord = {
    ...current,
    username: patch.username ?? current.username,
    kind: patch.kind ?? current.kind,
    roles: patch.roles ? { ...current.roles, ...patch.roles } : current.roles,
    concurrency: patch.concurrency ?? current.concurrency,
    contact: patch.contact === undefined ? current.contact : patch.contact,
    publicWorkers: patch.publicWorkers ?? current.publicWorkers,
  };
  s.atomically(() =>
    s.stmt.saveAccountProfile.run(
      next.username,
      next.kind,
      JSON.stringify(next.roles),
      next.concurrency,
      next.contact,
      next.publicWorkers ? 1 : 0,
      id,
    ),
  );
  s.accounts.set(id, next);
  return snapshot(next);
}

export function setApiKeyHash(s: SqliteState, id: number, hash: string | null): void {
  requireAccount(s, id);
  if (hash && s.accountIdByKeyHash.has(hash)) throw refuse.apiKeyTaken();
  s.atomically(() => s.stmt.setApiKeyHash.run(hash, id));
  for (const [key, owner] of s.accountIdByKeyHash) if (owner === id) s.accountIdByKeyHash.delete(key);
  if (hash) s.accountIdByKeyHash.set(hash, id);
}

export function linkIdentity(s: SqliteState, accountId: number, provider: string, externalId: string): void {
  requireAccount(s, accountId);
  s.atomically(() => s.stmt.insertIdentity.run(provider, externalId, accountId));
  s.identities.set(identityKey(provider, externalId), accountId);
}

export function adjustBalance(s: SqliteState, op: BalanceAdjustment): AccountRecord {
  const account = requireAccount(s, op.accountId);
  let balance = account.balance;
  let escrow = account.escrow;
  let details = account.details;
  const entries: Omit<JournalEntry, 'id'>[] = [];
  if (op.kind === 'escrow') {
    const amount = Math.min(op.amount, account.escrow);
    if (amount <= 0) return snapshot(account);
    balance += amount;
    escrow -= amount;
    details = addToBucket(details, 'accumulated', amount);
    entries.push({
      at: op.at,
      accountId: account.id,
      kind: op.kind,
      balanceDelta: amount,
      escrowDelta: -amount,
      bucket: op.bucket,
      ref: op.ref ?? null,
    });
  } else if (op.amount >= 0 || op.floor === undefined) {
    balance += op.amount;
    details = addToBucket(details, op.bucket, op.amount);
    entries.push({
      at: op.at,
      accountId: account.id,
      kind: op.kind,
      balanceDelta: op.amount,
      escrowDelta: 0,
      bucket: op.bucket,
      ref: op.ref ?? null,
    });
  } else {
    const debit = debitWithFloor(balance, -op.amount, op.floor);
    balance = debit.balance;
    details = addToBucket(details, op.bucket, op.amount);
    entries.push(
      {
        at: op.at,
        accountId: account.id,
        kind: op.kind,
        balanceDelta: op.amount,
        escrowDelta: 0,
        bucket: op.bucket,
        ref: op.ref ?? null,
      },
      {
        at: op.at,
        accountId: account.id,
        kind: 'floor' as const,
        balanceDelta: debit.forgiven,
        escrowDelta: 0,
        bucket: null,
        ref: op.ref ?? null,
      },
    );
  }
  const next = { ...account, balance, escrow, details };
  s.atomically(() => {
    saveAccountMoney(s, next);
    writeJournal(s, entries);
  });
  s.accounts.set(account.id, next);
  return snapshot(next);
}

export function transfer(s: SqliteState, op: TransferOp): TransferResult {
  if (!Number.isInteger(op.amount) || op.amount <= 0) {
    throw refuse.transferAmount();
  }
  if (op.fromId === op.toId) throw refuse.transferToSelf();
  const sender = requireAccount(s, op.fromId);
  const recipient = requireAccount(s, op.toId);

  if (op.idempotencyKey !== null) {
    const previous = s.stmt.findTransferByKey.get(op.fromId, op.idempotencyKey) as TransferRow | undefined;
    if (previous) {
      if (previous.to_id !== op.toId || previous.amount !== op.amount) {
        throw refuse.idempotencyConflict(op.idempotencyKey);
      }
      return { transfer: transferFromRow(previous), replayed: true };
    }
  }
  if (s.stmt.findRecentReverseTransfer.get(op.toId, op.fromId, op.pingPongSince)) {
    throw refuse.transferPingPong();
  }
  const spendable = sender.balance - sender.reserved - op.senderFloor;
  if (spendable < op.amount) {
    throw refuse.transferNotEnough(op.amount, spendable);
  }

  const nextSender = {
    ...sender,
    balance: sender.balance - op.amount,
    details: addToBucket(sender.details, op.senderBucket, -op.amount),
  };
  const nextRecipient = {
    ...recipient,
    balance: recipient.balance + op.amount,
    details: addToBucket(recipient.details, 'received', op.amount),
  };
  let id = 0;
  s.atomically(() => {
    id = Number(
      s.stmt.insertTransfer.run(op.fromId, op.toId, op.amount, op.idempotencyKey, op.at).lastInsertRowid,
    );
    saveAccountMoney(s, nextSender);
    saveAccountMoney(s, nextRecipient);
    writeJournal(s, transferJournal(op, id));
  });
  s.accounts.set(sender.id, nextSender);
  s.accounts.set(recipient.id, nextRecipient);
  return transferDone(op, id);
}

export { addToBucket, debitWithFloor };
