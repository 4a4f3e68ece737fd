/**
 * The check after the copy: reads PostgreSQL back through the store and compares it with SQLite — the
 * ledger totals, every account, and the counts.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AccountRecord } from '@hordekit/core';
import type { PostgresStore } from '@hordekit/core/postgres';
import type Database from 'better-sqlite3';
import { LIVE_REQUESTS, type Sources, sqliteAccounts } from './sqlite.js';

export interface Check {
  what: string;
  sqlite: string;
  postgres: string;
}

const kudos = (centikudos: number) => (centikudos / 100).toFixed(2);

/** Reads PostgreSQL back through the store and compares it with SQLite; returns the table and what differs. */
export async function verify(
  sources: Sources,
  store: PostgresStore,
): Promise<{ checks: Check[]; differences: string[] }> {
  const { horde } = sources;
  const count = (db: Database.Database | undefined, sql: string) =>
    db ? (db.prepare(sql).pluck().get() as number) : 0;
  const pgCount = async (sql: string) => Number((await store.pool.query(sql)).rows[0]!.n);

  const journal = horde
    .prepare(
      `SELECT
         coalesce(sum(CASE WHEN balance_delta + escrow_delta > 0 AND kind NOT IN ('transfer', 'escrow') THEN balance_delta + escrow_delta END), 0) AS minted,
         coalesce(sum(CASE WHEN balance_delta + escrow_delta < 0 AND kind NOT IN ('transfer', 'escrow') THEN -(balance_delta + escrow_delta) END), 0) AS burnt
       FROM journal`,
    )
    .get() as { minted: number; burnt: number };
  const money = horde
    .prepare('SELECT coalesce(sum(balance), 0) AS balances, coalesce(sum(escrow), 0) AS escrow FROM accounts')
    .get() as { balances: number; escrow: number };
  const totals = await store.ledgerTotals();
  const waiting = (await store.queueSummary('image')).requests + (await store.queueSummary('text')).requests;

  const differences: string[] = [];
  const expected = [...sqliteAccounts(horde)].map((a) => a.record);
  const actual = new Map<number, AccountRecord>();
  for (let offset = 0; ; offset += 500) {
    const page = await store.listAccounts({ offset, limit: 500, sort: 'age' });
    for (const account of page) actual.set(account.id, account);
    if (page.length < 500) break;
  }
  for (const want of expected) {
    const got = actual.get(want.id);
    if (!got) {
      differences.push(`account #${want.id} is missing`);
      continue;
    }
    for (const key of Object.keys(want) as (keyof AccountRecord)[]) {
      if (!isDeepStrictEqual(want[key], got[key])) {
        differences.push(
          `account #${want.id} ${key}: SQLite ${JSON.stringify(want[key])}, PostgreSQL ${JSON.stringify(got[key])}`,
        );
      }
    }
  }

  const settings = await store.pool.query<{ key: string; value: string }>(
    "SELECT key, value FROM settings WHERE key IN ('api_key_pepper', 'signing_secret')",
  );
  const setting = (key: string) => settings.rows.find((row) => row.key === key)?.value;
  const secretsMatch =
    setting('api_key_pepper') === sources.secrets.apiKeyPepper &&
    setting('signing_secret') === sources.secrets.signingSecret;

  const checks: Check[] = [
    { what: 'accounts', sqlite: `${expected.length}`, postgres: `${actual.size}` },
    {
      what: 'journal rows',
      sqlite: `${count(horde, 'SELECT count(*) FROM journal')}`,
      postgres: `${await pgCount('SELECT count(*) AS n FROM journal')}`,
    },
    { what: 'kudos minted', sqlite: kudos(journal.minted), postgres: kudos(totals.minted) },
    { what: 'kudos burnt', sqlite: kudos(journal.burnt), postgres: kudos(totals.burnt) },
    { what: 'kudos in balances', sqlite: kudos(money.balances), postgres: kudos(totals.balances) },
    { what: 'kudos in escrow', sqlite: kudos(money.escrow), postgres: kudos(totals.escrow) },
    {
      what: 'requests (not expired)',
      sqlite: `${count(horde, `SELECT count(*) ${LIVE_REQUESTS}`)}`,
      postgres: `${await pgCount('SELECT count(*) AS n FROM requests')}`,
    },
    {
      what: 'requests waiting',
      sqlite: `${count(horde, "SELECT count(*) FROM requests WHERE state = 'active' AND waiting > 0")}`,
      postgres: `${waiting}`,
    },
    {
      what: 'workers',
      sqlite: `${count(horde, 'SELECT count(*) FROM workers')}`,
      postgres: `${(await store.listWorkers()).length}`,
    },
    {
      what: 'images',
      sqlite: `${count(sources.images, 'SELECT count(*) FROM blobs')}`,
      postgres: `${await pgCount('SELECT count(*) AS n FROM blobs')}`,
    },
    {
      what: 'image bytes',
      sqlite: `${count(sources.images, 'SELECT coalesce(sum(length(data)), 0) FROM blobs')}`,
      postgres: `${await pgCount('SELECT coalesce(sum(octet_length(data)), 0) AS n FROM blobs')}`,
    },
    { what: 'settings (secrets)', sqlite: '2', postgres: secretsMatch ? '2' : 'differ' },
  ];
  for (const check of checks) {
    if (check.sqlite !== check.postgres) {
      differences.unshift(`${check.what}: SQLite ${check.sqlite}, PostgreSQL ${check.postgres}`);
    }
  }
  return { checks, differences };
}
