/**
 * Account money on stripes: the fix for the hot account row.
 *
 * Every account has `S` rows in `account_money` (its stripes). The account's balance, escrow, reserved
 * kudos, active jobs and usage counters are the sums over its stripes. An operation that only adds
 * (rewards, releases, a finished job) adds to one stripe; an operation that takes (a request's tax and
 * upfront reservation, a job's cost, a transfer) takes from one stripe when that is provably safe, and
 * otherwise locks all of the account's stripes and decides on the exact totals, like a single row would.
 *
 * "Provably safe" is the escrow method: each stripe `i` is owed a share `split(F, i)` of the floor `F`
 * (shares sum to `F`). A whole-account pass that leaves `balance − reserved ≥ F` spreads the surplus over
 * the stripes so each holds at least its share, and stamps them `fast_floor = F`. Afterwards, while a
 * stripe's `fast_floor` equals the operation's floor, taking `d` from that stripe alone is allowed when
 * the stripe keeps its share: every other stripe still holds its own (single-stripe operations only ever
 * add to other stripes' headroom, and whole-account passes lock them all), so the account as a whole
 * keeps `balance − reserved ≥ F` — no debit is stopped at the floor and no refusal is missed, and the
 * result is the one the single-row ledger gives. Active jobs against the concurrency limit work the same
 * way with `fast_limit`. Anything else (a refusal, a debit stopped at the floor, a changed floor or
 * limit, an account below its floor) takes the whole-account path, which serialises only that account's
 * callers that need it.
 *
 * An account resting exactly on its floor — the anonymous account, which pays every anonymous request's tax
 * and never earns — would send every charge down the whole-account path. So a whole-account pass that
 * leaves the balance exactly at the floor also stamps the stripes `at_floor = F`: while the stamp holds,
 * a debit stopped at that floor (a tax, a job's cost) is forgiven whole on one stripe, as one row would
 * forgive it, and only its counters move. Anything that raises the balance clears the stamp first.
 *
 * Lock order, which keeps these free of deadlocks: within a transaction, accounts are touched in
 * ascending id order; a whole-account pass locks its stripes in stripe order.
 */
import type { AccountContribution, AccountUsage, KudosDetails } from '../../storage/types.js';
import type { Db } from './tx.js';

/** What an operation changes on an account; omitted fields stay. */
export interface MoneyDelta {
  balance?: number;
  escrow?: number;
  reserved?: number;
  active?: number;
  details?: Partial<KudosDetails>;
  usage?: Partial<AccountUsage>;
  contribution?: Partial<AccountContribution>;
}

/** An account's summed stripes. */
export interface MoneyTotals {
  balance: number;
  escrow: number;
  reserved: number;
  active: number;
  details: KudosDetails;
  usage: AccountUsage;
  contribution: AccountContribution;
}

/** What a taking operation must keep true, as the single-row ledger would check it. */
export interface Guard {
  /** The floor: `balance − reserved − need ≥ floor` must hold for the single-stripe path. */
  floor: number;
  /** Kudos the operation takes from `balance − reserved` (debits plus new reservations, minus releases). */
  need: number;
  /** The concurrency limit and the jobs added, when the operation adds active jobs. */
  limit?: { limit: number; add: number };
  /**
   * The balance change is a debit stopped at the floor and nothing is reserved: on an account stamped
   * as resting on this floor, it is forgiven whole (see above).
   */
  forgivable?: boolean;
}

/**
 * Which single-stripe path applied — the delta as given, or forgiven whole at the floor (balance
 * unchanged) — and the account's balance just before; null when neither applied.
 */
export type FastPath = { path: 'applied' | 'forgiven'; balanceBefore: number } | null;

/** The `i`-th of `stripes` near-equal integer parts of `total` (larger parts first; parts sum to `total`). */
export function split(total: number, stripes: number, i: number): number {
  return Math.floor((total + stripes - 1 - i) / stripes);
}

const DETAIL_COLUMNS: Record<keyof KudosDetails, string> = {
  accumulated: 'd_accumulated',
  gifted: 'd_gifted',
  donated: 'd_donated',
  admin: 'd_admin',
  received: 'd_received',
  recurring: 'd_recurring',
  awarded: 'd_awarded',
  styled: 'd_styled',
};
const USAGE_COLUMNS: Record<keyof AccountUsage, string> = {
  megapixelsteps: 'u_megapixelsteps',
  tokens: 'u_tokens',
  imageRequests: 'u_image_requests',
  textRequests: 'u_text_requests',
};
const CONTRIBUTION_COLUMNS: Record<keyof AccountContribution, string> = {
  megapixelsteps: 'c_megapixelsteps',
  tokens: 'c_tokens',
  imagesFulfilled: 'c_images',
  textsFulfilled: 'c_texts',
};

/** Column ← delta field, in one fixed order (the parameters of `ADD_SQL`). */
const DELTA_COLUMNS: [string, (d: MoneyDelta) => number | undefined][] = [
  ['balance', (d) => d.balance],
  ['escrow', (d) => d.escrow],
  ['reserved', (d) => d.reserved],
  ['active', (d) => d.active],
  ...Object.entries(DETAIL_COLUMNS).map(
    ([key, column]) => [column, (d: MoneyDelta) => d.details?.[key as keyof KudosDetails]] as const,
  ),
  ...Object.entries(USAGE_COLUMNS).map(
    ([key, column]) => [column, (d: MoneyDelta) => d.usage?.[key as keyof AccountUsage]] as const,
  ),
  ...Object.entries(CONTRIBUTION_COLUMNS).map(
    ([key, column]) =>
      [column, (d: MoneyDelta) => d.contribution?.[key as keyof AccountContribution]] as const,
  ),
] as [string, (d: MoneyDelta) => number | undefined][];

const FIRST = 3;
const SET_LIST = DELTA_COLUMNS.map(([column], i) => `${column} = ${column} + $${FIRST + i}`).join(', ');
const NEXT = FIRST + DELTA_COLUMNS.length;
/**
 * Adds a delta to one stripe. With a guard (parameters from `NEXT`), only when the stripe keeps its
 * share of the floor and of the limit, and both stamps match.
 */
const ADD_SQL = `UPDATE account_money SET ${SET_LIST} WHERE account_id = $1 AND stripe = $2`;
const LIMIT_GUARD = `($${NEXT + 3}::integer IS NULL OR (fast_limit = $${NEXT + 3} AND active + $${NEXT + 4} <= $${NEXT + 5}))`;
/** The account's balance before the statement (its snapshot does not see its own change). */
const RETURN_BALANCE_BEFORE =
  'RETURNING (SELECT sum(balance) FROM account_money WHERE account_id = $1)::bigint AS balance_before';
const GUARDED_ADD_SQL = `${ADD_SQL}
  AND fast_floor = $${NEXT} AND balance - reserved - $${NEXT + 1} >= $${NEXT + 2} AND ${LIMIT_GUARD}
  ${RETURN_BALANCE_BEFORE}`;
/** The same parameters; `$NEXT + 1` and `$NEXT + 2` are unused but typed, so one value list serves both. */
const AT_FLOOR_ADD_SQL = `${ADD_SQL}
  AND at_floor = $${NEXT} AND $${NEXT + 1}::bigint IS NOT NULL AND $${NEXT + 2}::bigint IS NOT NULL AND ${LIMIT_GUARD}
  ${RETURN_BALANCE_BEFORE}`;
/** A credit to an account resting on its floor: lifts it off, so the stamp goes on every stripe. */
const CREDIT_SQL = `${ADD_SQL} AND at_floor IS NULL`;

function deltaValues(delta: MoneyDelta): number[] {
  return DELTA_COLUMNS.map(([, read]) => read(delta) ?? 0);
}

/** Adds to one stripe, no questions asked: for changes that only add headroom (credits, releases). */
export async function addToStripe(
  db: Db,
  accountId: number,
  stripe: number,
  delta: MoneyDelta,
): Promise<void> {
  await db.query({ name: 'hk_money_add', text: ADD_SQL, values: [accountId, stripe, ...deltaValues(delta)] });
}

/**
 * The single-stripe paths of a taking operation: the guarded one, then — for a debit stopped at the
 * floor — the one for an account resting on it. Null when neither applies: take the whole-account path.
 */
export async function tryGuardedAdd(
  db: Db,
  accountId: number,
  stripe: number,
  stripes: number,
  delta: MoneyDelta,
  guard: Guard,
): Promise<FastPath> {
  const tail = [
    guard.floor,
    guard.need,
    split(guard.floor, stripes, stripe),
    guard.limit?.limit ?? null,
    guard.limit?.add ?? 0,
    guard.limit ? split(guard.limit.limit, stripes, stripe) : 0,
  ];
  // In a savepoint: an UPDATE that waited for the row and then found the guard false still holds the
  // row's lock, and the whole-account pass that follows must lock the stripes in order — rolling back to
  // the savepoint lets the lock go.
  await db.query('SAVEPOINT fast_path');
  const applied = await db.query({
    name: 'hk_money_guarded_add',
    text: GUARDED_ADD_SQL,
    values: [accountId, stripe, ...deltaValues(delta), ...tail],
  });
  if (applied.rowCount === 1) return { path: 'applied', balanceBefore: applied.rows[0].balance_before };
  if (guard.forgivable) {
    const forgiven = await db.query({
      name: 'hk_money_at_floor_add',
      text: AT_FLOOR_ADD_SQL,
      values: [accountId, stripe, ...deltaValues({ ...delta, balance: 0 }), ...tail],
    });
    if (forgiven.rowCount === 1) return { path: 'forgiven', balanceBefore: forgiven.rows[0].balance_before };
  }
  await db.query('ROLLBACK TO SAVEPOINT fast_path');
  return null;
}

/**
 * Adds a credit to one stripe; on an account resting on its floor, clears the stamp on every stripe
 * (the balance is no longer at the floor). Rare, so no savepoint: should that path meet a whole-account
 * pass, PostgreSQL breaks the deadlock and the transaction runs again.
 */
export async function creditAccount(
  db: Db,
  accountId: number,
  stripe: number,
  delta: MoneyDelta,
): Promise<void> {
  if ((delta.balance ?? 0) <= 0) return addToStripe(db, accountId, stripe, delta);
  const { rowCount } = await db.query({
    name: 'hk_money_credit',
    text: CREDIT_SQL,
    values: [accountId, stripe, ...deltaValues(delta)],
  });
  if (rowCount === 1) return;
  await lockAccount(db, accountId);
  await addToStripe(db, accountId, stripe, delta);
  await db.query('UPDATE account_money SET at_floor = NULL WHERE account_id = $1', [accountId]);
}

interface StripeRow {
  stripe: number;
  balance: number;
  reserved: number;
  active: number;
}

/** Locks every stripe of the account (in stripe order) and returns them with their totals. */
export async function lockAccount(
  db: Db,
  accountId: number,
): Promise<{ stripes: StripeRow[]; totals: MoneyTotals }> {
  const { rows } = await db.query<Record<string, number>>(
    'SELECT * FROM account_money WHERE account_id = $1 ORDER BY stripe FOR UPDATE',
    [accountId],
  );
  return {
    stripes: rows.map((r) => ({
      stripe: r.stripe!,
      balance: r.balance!,
      reserved: r.reserved!,
      active: r.active!,
    })),
    totals: sumRows(rows),
  };
}

/**
 * The end of a whole-account pass: adds `delta` to stripe `home`, then spreads the balance (and, with a
 * limit, the active jobs) so the stripes can serve single-stripe operations again, stamping the floor
 * and limit they were spread for; or, when the account is below the floor (over the limit), clears the
 * stamp so every taking operation comes back here. Without a floor, the stamp is cleared if the delta
 * takes anything.
 */
export async function settleAccount(
  db: Db,
  accountId: number,
  locked: { stripes: StripeRow[]; totals: MoneyTotals },
  home: number,
  delta: MoneyDelta,
  spread: { floor?: number; limit?: number },
): Promise<void> {
  await addToStripe(db, accountId, home, delta);
  const rows = locked.stripes.map((row) =>
    row.stripe === home
      ? {
          ...row,
          balance: row.balance + (delta.balance ?? 0),
          reserved: row.reserved + (delta.reserved ?? 0),
          active: row.active + (delta.active ?? 0),
        }
      : { ...row },
  );
  const count = rows.length;
  const balance = rows.reduce((sum, r) => sum + r.balance, 0);
  const reserved = rows.reduce((sum, r) => sum + r.reserved, 0);
  const active = rows.reduce((sum, r) => sum + r.active, 0);

  let floorStamp: number | null | undefined; // undefined: leave as is
  if (spread.floor !== undefined) {
    const surplus = balance - reserved - spread.floor;
    if (surplus >= 0) {
      rows.forEach((r, i) => {
        r.balance = r.reserved + split(spread.floor!, count, i) + split(surplus, count, i);
      });
      floorStamp = spread.floor;
    } else floorStamp = null;
  } else if ((delta.balance ?? 0) < 0 || (delta.reserved ?? 0) > 0) {
    floorStamp = null;
  }
  // Resting exactly on the floor: debits stopped there are forgiven whole on one stripe from now on.
  let atFloorStamp: number | null | undefined;
  if (spread.floor !== undefined) atFloorStamp = balance === spread.floor ? spread.floor : null;
  else if ((delta.balance ?? 0) !== 0) atFloorStamp = null;
  let limitStamp: number | null | undefined;
  if (spread.limit !== undefined) {
    rows.forEach((r, i) => {
      r.active = split(active, count, i);
    });
    limitStamp = active <= spread.limit ? spread.limit : null;
  } else if ((delta.active ?? 0) > 0) {
    limitStamp = null;
  }
  await db.query(
    `UPDATE account_money m SET balance = v.balance, active = v.active,
       fast_floor = CASE WHEN $4 THEN $5::bigint ELSE m.fast_floor END,
       fast_limit = CASE WHEN $6 THEN $7::integer ELSE m.fast_limit END,
       at_floor = CASE WHEN $9 THEN $10::bigint ELSE m.at_floor END
     FROM unnest($2::integer[], $3::bigint[], $8::integer[]) AS v(stripe, balance, active)
     WHERE m.account_id = $1 AND m.stripe = v.stripe`,
    [
      accountId,
      rows.map((r) => r.stripe),
      rows.map((r) => r.balance),
      floorStamp !== undefined,
      floorStamp ?? null,
      limitStamp !== undefined,
      limitStamp ?? null,
      rows.map((r) => r.active),
      atFloorStamp !== undefined,
      atFloorStamp ?? null,
    ],
  );
}

export const MONEY_SUMS = `
  coalesce(sum(m.balance), 0) AS balance, coalesce(sum(m.escrow), 0) AS escrow,
  coalesce(sum(m.reserved), 0) AS reserved, coalesce(sum(m.active), 0) AS active,
  ${[
    ...Object.values(DETAIL_COLUMNS),
    ...Object.values(USAGE_COLUMNS),
    ...Object.values(CONTRIBUTION_COLUMNS),
  ]
    .map((column) => `coalesce(sum(m.${column}), 0) AS ${column}`)
    .join(', ')}`;

/** Totals from a row of `MONEY_SUMS` (or stripe rows, summed). */
export function sumRows(rows: Record<string, number>[]): MoneyTotals {
  const total = (column: string) => rows.reduce((sum, row) => sum + Number(row[column] ?? 0), 0);
  const pick = <K extends string>(columns: Record<K, string>) =>
    Object.fromEntries(
      Object.entries(columns).map(([key, column]) => [key, total(column as string)]),
    ) as Record<K, number>;
  return {
    balance: total('balance'),
    escrow: total('escrow'),
    reserved: total('reserved'),
    active: total('active'),
    details: pick(DETAIL_COLUMNS),
    usage: pick(USAGE_COLUMNS),
    contribution: pick(CONTRIBUTION_COLUMNS),
  };
}

/** The stripe rows a new account starts with. */
export async function insertStripes(db: Db, accountId: number, stripes: number): Promise<void> {
  await db.query(
    'INSERT INTO account_money (account_id, stripe) SELECT $1, s FROM generate_series(0, $2 - 1) AS s',
    [accountId, stripes],
  );
}

/** A stripe for an operation that does not care which: spreads concurrent callers. */
export function anyStripe(stripes: number): number {
  return Math.floor(Math.random() * stripes);
}
