/** Accounts: creation, look-ups, listing, profile updates, API keys, linked identities. */
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../storage/types.js';
import { expectRc, movements } from './assertions.js';
import { createAccount, fund, getAccount, T0 } from './fixtures.js';
import type { Harness } from './harness.js';

export function accountCases(h: Harness): void {
  describe('accounts', () => {
    it('createAccount hands out increasing ids and starts every account empty', async () => {
      const a = await h.store.createAccount({
        username: 'alice',
        kind: 'verified',
        apiKeyHash: 'hash-a',
        roles: { trusted: true },
        concurrency: 30,
        createdAt: T0,
      });
      const b = await createAccount(h.store, { createdAt: T0 + 1 });
      expect(b.id).toBeGreaterThan(a.id);
      expect(a).toEqual({
        id: a.id,
        username: 'alice',
        kind: 'verified',
        roles: Object.fromEntries(ROLES.map((role) => [role, role === 'trusted'])),
        createdAt: T0,
        concurrency: 30,
        balance: 0,
        escrow: 0,
        reserved: 0,
        details: {
          accumulated: 0,
          gifted: 0,
          donated: 0,
          admin: 0,
          received: 0,
          recurring: 0,
          awarded: 0,
          styled: 0,
        },
        usage: { megapixelsteps: 0, tokens: 0, imageRequests: 0, textRequests: 0 },
        contribution: { megapixelsteps: 0, tokens: 0, imagesFulfilled: 0, textsFulfilled: 0 },
        activeJobs: 0,
        contact: null,
        publicWorkers: false,
      });
      expect(await h.store.getAccount(a.id)).toEqual(a);
    });

    it('allows the fixed id 0 once', async () => {
      const before = await createAccount(h.store);
      const anon = await createAccount(h.store, { id: 0, username: 'Anonymous', kind: 'anonymous' });
      expect(anon.id).toBe(0);
      expect((await getAccount(h.store, 0)).username).toBe('Anonymous');
      await expectRc(createAccount(h.store, { id: 0, username: 'Again' }), 'BadRequest');
      const after = await createAccount(h.store);
      expect(after.id).toBeGreaterThan(before.id);
    });

    it('refuses a key hash that another account holds', async () => {
      const a = await createAccount(h.store, { apiKeyHash: 'shared' });
      await expectRc(createAccount(h.store, { apiKeyHash: 'shared' }), 'BadRequest');
      const b = await createAccount(h.store, { apiKeyHash: 'other' });
      await expectRc(h.store.setApiKeyHash(b.id, 'shared'), 'BadRequest');
      expect((await h.store.getAccountByKeyHash('shared'))?.id).toBe(a.id);
      expect((await h.store.getAccountByKeyHash('other'))?.id).toBe(b.id);
    });

    it('finds accounts by id, key hash, username (any case) and linked identity', async () => {
      const a = await createAccount(h.store, { username: 'Alice', apiKeyHash: 'hash-a' });
      const b = await createAccount(h.store, { username: 'alice' });
      await createAccount(h.store, { username: 'bob' });
      expect(await h.store.getAccount(a.id)).toEqual(a);
      expect(await h.store.getAccount(987_654)).toBeUndefined();
      expect(await h.store.getAccountByKeyHash('hash-a')).toEqual(a);
      expect(await h.store.getAccountByKeyHash('nope')).toBeUndefined();
      const found = await h.store.getAccountByUsername('ALICE');
      expect(found.map((x) => x.id).sort((x, y) => x - y)).toEqual([a.id, b.id]);
      expect(await h.store.getAccountByUsername('carol')).toEqual([]);

      await h.store.linkIdentity(b.id, 'discord', '1234');
      await h.store.linkIdentity(b.id, 'discord', '1234'); // linking again is harmless
      expect((await h.store.getAccountByIdentity('discord', '1234'))?.id).toBe(b.id);
      expect(await h.store.getAccountByIdentity('telegram', '1234')).toBeUndefined();
      expect(await h.store.getAccountByIdentity('discord', '12345')).toBeUndefined();
      await expectRc(h.store.linkIdentity(987_654, 'slack', 'U1'), 'UserNotFound');
    });

    it('re-points an identity linked again to another account; the account it left keeps its kudos', async () => {
      const a = await createAccount(h.store, { username: 'first', balance: 300 });
      const b = await createAccount(h.store, { username: 'second' });
      await h.store.linkIdentity(a.id, 'telegram', '77');
      await h.store.linkIdentity(b.id, 'telegram', '77');
      expect((await h.store.getAccountByIdentity('telegram', '77'))?.id).toBe(b.id);
      expect((await h.store.getAccount(a.id))?.balance).toBe(300);
      await h.store.linkIdentity(b.id, 'discord', '77');
      expect((await h.store.getAccountByIdentity('discord', '77'))?.id).toBe(b.id);
      expect((await h.store.getAccountByIdentity('telegram', '77'))?.id).toBe(b.id);
    });

    it('lists accounts by kudos (richest first) and by age (oldest first), paged', async () => {
      const a = await createAccount(h.store, { createdAt: T0, balance: 200 });
      const b = await createAccount(h.store, { createdAt: T0 + 1, balance: 900 });
      const c = await createAccount(h.store, { createdAt: T0 + 2, balance: 50 });
      const d = await createAccount(h.store, { createdAt: T0 + 3, balance: 400 });
      const ids = async (sort: 'kudos' | 'age', offset: number, limit: number) =>
        (await h.store.listAccounts({ sort, offset, limit })).map((x) => x.id);
      expect(await ids('kudos', 0, 10)).toEqual([b.id, d.id, a.id, c.id]);
      expect(await ids('kudos', 1, 2)).toEqual([d.id, a.id]);
      expect(await ids('age', 0, 10)).toEqual([a.id, b.id, c.id, d.id]);
      expect(await ids('age', 2, 5)).toEqual([c.id, d.id]);
      expect(await ids('age', 4, 5)).toEqual([]);
      expect((await h.store.listAccounts({ sort: 'age', offset: 0, limit: 1 }))[0]).toEqual(
        await h.store.getAccount(a.id),
      );
    });

    it('updateAccount merges roles, changes the profile and never touches money', async () => {
      const a = await createAccount(h.store, { balance: 1234 });
      const updated = await h.store.updateAccount(a.id, {
        username: 'renamed',
        kind: 'verified',
        roles: { trusted: true },
        concurrency: 7,
        contact: 'me@example.org',
        publicWorkers: true,
      });
      expect(updated).toEqual({
        ...a,
        username: 'renamed',
        kind: 'verified',
        roles: { ...a.roles, trusted: true },
        concurrency: 7,
        contact: 'me@example.org',
        publicWorkers: true,
      });
      const again = await h.store.updateAccount(a.id, { roles: { flagged: true }, contact: null });
      expect(again.roles).toEqual({ ...a.roles, trusted: true, flagged: true });
      expect(again.contact).toBeNull();
      expect(again.username).toBe('renamed');
      expect(await h.store.getAccount(a.id)).toEqual(again);
      expect({ balance: again.balance, escrow: again.escrow, details: again.details }).toEqual({
        balance: a.balance,
        escrow: a.escrow,
        details: a.details,
      });
      expect(await movements(h.store, a.id)).toHaveLength(1);
      await expectRc(h.store.updateAccount(987_654, { username: 'ghost' }), 'UserNotFound');
    });

    it('setApiKeyHash replaces the key: the old hash stops working', async () => {
      const a = await createAccount(h.store, { apiKeyHash: 'old' });
      await h.store.setApiKeyHash(a.id, 'new');
      expect(await h.store.getAccountByKeyHash('old')).toBeUndefined();
      expect((await h.store.getAccountByKeyHash('new'))?.id).toBe(a.id);
      await h.store.setApiKeyHash(a.id, null);
      expect(await h.store.getAccountByKeyHash('new')).toBeUndefined();
      const b = await createAccount(h.store, { apiKeyHash: 'old' }); // the released hash is free again
      expect((await h.store.getAccountByKeyHash('old'))?.id).toBe(b.id);
      await fund(h.store, a.id, 10);
      expect((await getAccount(h.store, a.id)).balance).toBe(10);
    });
  });
}
