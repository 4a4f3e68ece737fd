import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHordeError } from '../../errors.js';
import { createSqliteStore } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hordekit-gc-'));
  dirs.push(dir);
  return join(dir, 'horde.db');
}

const account = (username: string) => ({
  username,
  kind: 'verified' as const,
  apiKeyHash: null,
  concurrency: 30,
  createdAt: 0,
});

describe('group commit', () => {
  it('commits concurrent writes together; a failing one undoes only its own writes', async () => {
    const path = tempPath();
    const store = await createSqliteStore({ path });
    const [alice, bob] = await Promise.all([
      store.createAccount(account('alice')),
      store.createAccount(account('bob')),
    ]);
    await store.adjustBalance({ accountId: alice.id, kind: 'award', amount: 1000, bucket: 'awarded', at: 1 });
    const transfer = (amount: number, key: string) =>
      store.transfer({
        fromId: alice.id,
        toId: bob.id,
        amount,
        senderFloor: 0,
        senderBucket: 'gifted',
        pingPongSince: 0,
        idempotencyKey: key,
        at: 2,
      });
    const results = await Promise.allSettled([transfer(300, 'a'), transfer(5000, 'b'), transfer(200, 'c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isHordeError((results[1] as PromiseRejectedResult).reason, 'KudosTransferNotEnough')).toBe(true);
    await store.close();

    const reopened = await createSqliteStore({ path });
    expect((await reopened.getAccount(alice.id))?.balance).toBe(500);
    expect((await reopened.getAccount(bob.id))?.balance).toBe(500);
    const totals = await reopened.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
    await reopened.close();
  });

  it('resolves a write only once it is committed, and close commits what is pending', async () => {
    const path = tempPath();
    const store = await createSqliteStore({ path });
    const created = store.createAccount(account('carol'));
    // Not awaited: close must still commit it before closing the database.
    await store.close();
    await expect(created).resolves.toMatchObject({ username: 'carol' });
    const reopened = await createSqliteStore({ path });
    expect((await reopened.getAccountByUsername('carol')).length).toBe(1);
    await reopened.close();
  });

  it('refuses operations after close', async () => {
    const store = await createSqliteStore({ path: tempPath() });
    await store.close();
    await expect(store.createAccount(account('dave'))).rejects.toMatchObject({ rc: 'StorageError' });
  });
});
