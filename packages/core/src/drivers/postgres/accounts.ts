/** Accounts, identities, and every kudos movement that is not a job (transfers, grants, escrow). */

import { refuse } from '../../storage/refusals.js';
import { debitWithFloor, transferDone, transferJournal } from '../../storage/rules.js';
import type {
  AccountPatch,
  AccountRecord,
  BalanceAdjustment,
  JournalEntry,
  KudosBucket,
  NewAccount,
  TransferOp,
  TransferResult,
} from '../../storage/types.js';
import { emptyRoles } from '../sqlite/rows.js';
import {
  anyStripe,
  creditAccount,
  insertStripes,
  lockAccount,
  type MoneyDelta,
  settleAccount,
  tryGuardedAdd,
} from './money.js';
import { ACCOUNT_SELECT, accountFromRow, transferFromRow } from './rows.js';
import { type Db, isUniqueViolation, Retry } from './tx.js';

export async function readAccount(db: Db, id: number): Promise<AccountRecord | undefined> {
  const { rows } = await db.query(`${ACCOUNT_SELECT} WHERE a.id = $1`, [id]);
  return rows[0] ? accountFromRow(rows[0]) : undefined;
}

export async function requireAccount(db: Db, id: number): Promise<AccountRecord> {
  const account = await readAccount(db, id);
  if (!account) throw refuse.unknownAccount(id);
  return account;
}

/** The account's stripe count, or `UserNotFound`. */
export async function stripesOf(db: Db, id: number): Promise<number> {
  const { rows } = await db.query<{ stripes: number }>('SELECT stripes FROM accounts WHERE id = $1', [id]);
  if (!rows[0]) throw refuse.unknownAccount(id);
  return rows[0].stripes;
}

export async function writeJournal(db: Db, entries: Omit<JournalEntry, 'id'>[]): Promise<void> {
  const rows = entries.filter((e) => e.balanceDelta !== 0 || e.escrowDelta !== 0);
  if (rows.length === 0) return;
  await db.query({
    name: 'hk_journal_insert',
    text: `INSERT INTO journal (at, account_id, kind, balance_delta, escrow_delta, bucket, ref)
      SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])`,
    values: [
      rows.map((e) => e.at),
      rows.map((e) => e.accountId),
      rows.map((e) => e.kind),
      rows.map((e) => e.balanceDelta),
      rows.map((e) => e.escrowDelta),
      rows.map((e) => e.bucket),
      rows.map((e) => e.ref),
    ],
  });
}

export async function createAccount(db: Db, input: NewAccount, stripes: number): Promise<AccountRecord> {
  let id = input.id;
  if (id === undefined) {
    const { rows } = await db.query<{ id: number }>("SELECT nextval('account_ids') AS id");
    id = rows[0]!.id;
  }
  try {
    await db.query(
      `INSERT INTO accounts (id, username, kind, api_key_hash, roles, created_at, concurrency, stripes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        input.username,
        input.kind,
        input.apiKeyHash,
        JSON.stringify({ ...emptyRoles(), ...input.roles }),
        input.createdAt,
        input.concurrency,
        stripes,
      ],
    );
    if (input.identity) {
      await db.query('INSERT INTO identities (provider, external_id, account_id) VALUES ($1, $2, $3)', [
        input.identity.provider,
        input.identity.externalId,
        id,
      ]);
    }
  } catch (error) {
    if (isUniqueViolation(error, 'accounts_pkey')) throw refuse.accountIdTaken(id);
    if (isUniqueViolation(error, 'accounts_api_key_hash_key')) throw refuse.apiKeyTaken();
    if (isUniqueViolation(error, 'identities_pkey')) throw refuse.identityTaken();
    throw error;
  }
  // Ids given explicitly (the anonymous account, imports) keep the sequence ahead of them.
  if (input.id !== undefined) {
    // `false`: the next `nextval` returns the value set, so after the anonymous account (0) comes 1.
    await db.query("SELECT setval('account_ids', greatest(nextval('account_ids'), $1 + 1), false)", [id]);
  }
  await insertStripes(db, id, stripes);
  return requireAccount(db, id);
}

export async function updateAccount(db: Db, id: number, patch: AccountPatch): Promise<AccountRecord> {
  const current = await requireAccount(db, id);
  await db.query(
    `UPDATE accounts SET username = $2, kind = $3, roles = $4, concurrency = $5, contact = $6, public_workers = $7
     WHERE id = $1`,
    [
      id,
      patch.username ?? current.username,
      patch.kind ?? current.kind,
      JSON.stringify(patch.roles ? { ...current.roles, ...patch.roles } : current.roles),
      patch.concurrency ?? current.concurrency,
      patch.contact === undefined ? current.contact : patch.contact,
      patch.publicWorkers ?? current.publicWorkers,
    ],
  );
  return requireAccount(db, id);
}

export async function setApiKeyHash(db: Db, id: number, hash: string | null): Promise<void> {
  await stripesOf(db, id);
  try {
    await db.query('UPDATE accounts SET api_key_hash = $2 WHERE id = $1', [id, hash]);
  } catch (error) {
    if (isUniqueViolation(error)) throw refuse.apiKeyTaken();
    throw error;
  }
}

export async function linkIdentity(
  db: Db,
  accountId: number,
  provider: string,
  externalId: string,
): Promise<void> {
  await stripesOf(db, accountId);
  await db.query(
    `INSERT INTO identities (provider, external_id, account_id) VALUES ($1, $2, $3)
     ON CONFLICT (provider, external_id) DO UPDATE SET account_id = excluded.account_id`,
    [provider, externalId, accountId],
  );
}

/** Grants, burns and escrow releases: rare, so always on the whole account. */
export async function adjustBalance(db: Db, op: BalanceAdjustment): Promise<AccountRecord> {
  await stripesOf(db, op.accountId);
  const locked = await lockAccount(db, op.accountId);
  const { totals } = locked;
  let delta: MoneyDelta;
  const entries: Omit<JournalEntry, 'id'>[] = [];
  const base = { at: op.at, accountId: op.accountId, ref: op.ref ?? null };
  if (op.kind === 'escrow') {
    const amount = Math.min(op.amount, totals.escrow);
    if (amount <= 0) return requireAccount(db, op.accountId);
    delta = { balance: amount, escrow: -amount, details: { accumulated: amount } };
    entries.push({ ...base, kind: op.kind, balanceDelta: amount, escrowDelta: -amount, bucket: op.bucket });
  } else if (op.amount >= 0 || op.floor === undefined) {
    delta = { balance: op.amount, details: bucketDelta(op.bucket, op.amount) };
    entries.push({ ...base, kind: op.kind, balanceDelta: op.amount, escrowDelta: 0, bucket: op.bucket });
  } else {
    const debit = debitWithFloor(totals.balance, -op.amount, op.floor);
    delta = { balance: debit.balance - totals.balance, details: bucketDelta(op.bucket, op.amount) };
    entries.push(
      { ...base, kind: op.kind, balanceDelta: op.amount, escrowDelta: 0, bucket: op.bucket },
      { ...base, kind: 'floor', balanceDelta: debit.forgiven, escrowDelta: 0, bucket: null },
    );
  }
  await settleAccount(db, op.accountId, locked, 0, delta, { floor: op.floor });
  await writeJournal(db, entries);
  return requireAccount(db, op.accountId);
}

function bucketDelta(bucket: KudosBucket | null, amount: number): MoneyDelta['details'] {
  return bucket === null ? {} : { [bucket]: amount };
}

export async function transfer(db: Db, op: TransferOp): Promise<TransferResult> {
  if (!Number.isInteger(op.amount) || op.amount <= 0) {
    throw refuse.transferAmount();
  }
  if (op.fromId === op.toId) throw refuse.transferToSelf();
  const senderStripes = await stripesOf(db, op.fromId);
  const recipientStripes = await stripesOf(db, op.toId);

  if (op.idempotencyKey !== null) {
    const { rows } = await db.query('SELECT * FROM transfers WHERE from_id = $1 AND idempotency_key = $2', [
      op.fromId,
      op.idempotencyKey,
    ]);
    const previous = rows[0];
    if (previous) {
      if (previous.to_id !== op.toId || previous.amount !== op.amount) {
        throw refuse.idempotencyConflict(op.idempotencyKey);
      }
      return { transfer: transferFromRow(previous), replayed: true };
    }
  }
  const { rowCount: pingPong } = await db.query(
    'SELECT 1 FROM transfers WHERE from_id = $1 AND to_id = $2 AND at > $3 LIMIT 1',
    [op.toId, op.fromId, op.pingPongSince],
  );
  if (pingPong) {
    throw refuse.transferPingPong();
  }

  let id: number;
  try {
    const { rows } = await db.query<{ id: number }>(
      'INSERT INTO transfers (from_id, to_id, amount, idempotency_key, at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [op.fromId, op.toId, op.amount, op.idempotencyKey, op.at],
    );
    id = rows[0]!.id;
  } catch (error) {
    // The same key, sent twice at once from two nodes: run again, and the replay is found above.
    if (isUniqueViolation(error, 'transfers_idempotency')) throw new Retry();
    throw error;
  }

  const debit: MoneyDelta = { balance: -op.amount, details: { [op.senderBucket]: -op.amount } };
  const credit: MoneyDelta = { balance: op.amount, details: { received: op.amount } };
  const takeFromSender = async () => {
    const stripe = anyStripe(senderStripes);
    const guard = { floor: op.senderFloor, need: op.amount };
    if (await tryGuardedAdd(db, op.fromId, stripe, senderStripes, debit, guard)) return;
    const locked = await lockAccount(db, op.fromId);
    const spendable = locked.totals.balance - locked.totals.reserved - op.senderFloor;
    if (spendable < op.amount) {
      throw refuse.transferNotEnough(op.amount, spendable);
    }
    await settleAccount(db, op.fromId, locked, stripe, debit, { floor: op.senderFloor });
  };
  const giveToRecipient = () => creditAccount(db, op.toId, anyStripe(recipientStripes), credit);
  // Accounts in id order (see money.ts).
  if (op.fromId < op.toId) {
    await takeFromSender();
    await giveToRecipient();
  } else {
    await giveToRecipient();
    await takeFromSender();
  }
  await writeJournal(db, transferJournal(op, id));
  return transferDone(op, id);
}
