/**
 * Users and kudos over HTTP, ported from upstream's `test_user_ops.py`, `test_kudos_endpoints.py` and the
 * user/kudos half of `test_validation_boundaries.py` (spec §5.2; shared keys left out: hordekit has none).
 * Balances are read back through `GET /users/{id}`; conservation is also checked on the ledger totals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestAccount, type TestServer } from '../support/server.js';

let ts: TestServer;
let plain: TestAccount;
let moderator: TestAccount;

beforeAll(async () => {
  ts = await startTestServer();
  plain = await ts.user('plain_user', 50);
  moderator = await ts.user('just_a_mod', 0, { moderator: true });
});

afterAll(async () => {
  await ts?.close();
});

async function kudosOf(account: TestAccount): Promise<number> {
  const res = await ts.call('GET', `/users/${account.id}`);
  expect(res.status).toBe(200);
  return res.body.kudos;
}

describe('looking users up', () => {
  it('answers a non-numeric id with 404 UserNotFound', async () => {
    const res = await ts.call('GET', '/users/db0');
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('UserNotFound');
  });

  it('answers an unknown id with 404 UserNotFound', async () => {
    const res = await ts.call('GET', '/users/987654');
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('UserNotFound');
  });

  it('answers an id beyond int4 with 404 UserNotFound', async () => {
    const res = await ts.call('GET', '/users/99999999999');
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('UserNotFound');
  });

  it('shows a user with alias, id and kudos', async () => {
    const res = await ts.call('GET', `/users/${plain.id}`);
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(plain.alias);
    expect(res.body.id).toBe(plain.id);
    expect(res.body.kudos).toBe(50);
  });

  it('answers a key that matches nobody on /users/{id} with 401 InvalidAPIKey', async () => {
    const res = await ts.call('GET', `/users/${plain.id}`, { apikey: 'abcdefghijklmnopqrstuv' });
    expect(res.status).toBe(401);
    expect(res.body.rc).toBe('InvalidAPIKey');
  });

  it('shows evaluating_kudos to a moderator but not to an anonymous caller', async () => {
    const asMod = await ts.call('GET', `/users/${plain.id}`, { apikey: ts.admin.apiKey });
    expect(asMod.status).toBe(200);
    expect(asMod.body).toHaveProperty('evaluating_kudos');
    expect(typeof asMod.body.evaluating_kudos).toBe('number');
    const anonymous = await ts.call('GET', `/users/${plain.id}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).not.toHaveProperty('evaluating_kudos');
  });

  it('finds the caller by key with /find_user', async () => {
    const res = await ts.call('GET', '/find_user', { apikey: plain.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(plain.alias);
    expect(res.body.kudos).toBe(50);
  });

  it('answers /find_user without a key with 401 (spec §1.4)', async () => {
    const res = await ts.call('GET', '/find_user');
    expect(res.status).toBe(401);
    expect(res.body.rc).toBe('InvalidAPIKey');
    expect(res.body.message).toContain('apikey');
  });

  it('answers /find_user with an unknown key with 404 UserNotFound', async () => {
    const res = await ts.call('GET', '/find_user', { apikey: 'abcdefghijklmnopqrstuv' });
    expect(res.status).toBe(404);
    expect(res.body.rc).toBe('UserNotFound');
  });

  it('lists users 25 to a page, sorted by kudos or age', async () => {
    for (let i = 0; i < 30; i++) await ts.user(`listed_${i}`, i);
    const page1 = await ts.call('GET', '/users?page=1');
    expect(page1.status).toBe(200);
    expect(Array.isArray(page1.body)).toBe(true);
    expect(page1.body).toHaveLength(25);
    const kudos = page1.body.map((u: { kudos: number }) => u.kudos);
    expect(kudos).toEqual([...kudos].sort((a, b) => b - a));
    const page2 = await ts.call('GET', '/users?page=2');
    expect(page2.status).toBe(200);
    expect(page2.body.length).toBeGreaterThan(0);
    const firstIds = new Set(page1.body.map((u: { id: number }) => u.id));
    expect(page2.body.some((u: { id: number }) => firstIds.has(u.id))).toBe(false);
    const byAge = await ts.call('GET', '/users?page=1&sort=age');
    expect(byAge.status).toBe(200);
    expect(byAge.body).toHaveLength(25);
    expect(byAge.body.every((u: { id: unknown }) => typeof u.id === 'number')).toBe(true);
  });
});

describe('changing users', () => {
  it('lets a moderator grant trusted', async () => {
    const res = await ts.call('PUT', `/users/${plain.id}`, {
      apikey: ts.admin.apiKey,
      body: { trusted: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.trusted).toBe(true);
    const view = await ts.call('GET', `/users/${plain.id}`);
    expect(view.body.trusted).toBe(true);
  });

  it('refuses trusted from a non-moderator with 403 NotModerator', async () => {
    const other = await ts.user('wannabe_mod', 0);
    const res = await ts.call('PUT', `/users/${other.id}`, { apikey: plain.apiKey, body: { trusted: true } });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotModerator');
  });

  it('refuses kudos from a moderator who is not an administrator with 403 NotAdmin', async () => {
    const res = await ts.call('PUT', `/users/${plain.id}`, {
      apikey: moderator.apiKey,
      body: { kudos: 1000 },
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotAdmin');
    expect(await kudosOf(plain)).toBe(50);
  });

  it('answers an empty change with 400 NoUserModSelected', async () => {
    const res = await ts.call('PUT', `/users/${plain.id}`, { apikey: ts.admin.apiKey, body: {} });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('NoUserModSelected');
  });

  it('lets the account itself set public_workers', async () => {
    const res = await ts.call('PUT', `/users/${plain.id}`, {
      apikey: plain.apiKey,
      body: { public_workers: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.public_workers).toBe(true);
  });

  it('refuses public_workers on someone else with 403', async () => {
    const other = await ts.user('someone_else', 0);
    const res = await ts.call('PUT', `/users/${other.id}`, {
      apikey: plain.apiKey,
      body: { public_workers: true },
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotModerator');
  });

  it('refuses a username longer than 30 characters with 400', async () => {
    const res = await ts.call('PUT', `/users/${plain.id}`, {
      apikey: plain.apiKey,
      body: { username: 'x'.repeat(31) },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('TooLongUserName');
    const view = await ts.call('GET', `/users/${plain.id}`);
    expect(view.body.username).toBe(plain.alias);
  });

  it('lets an administrator add kudos with PUT {kudos}', async () => {
    const target = await ts.user('admin_gift', 0);
    const res = await ts.call('PUT', `/users/${target.id}`, {
      apikey: ts.admin.apiKey,
      body: { kudos: 1000 },
    });
    expect(res.status).toBe(200);
    expect(res.body.new_kudos).toBe(1000);
    expect(await kudosOf(target)).toBe(1000);
  });
});

describe('kudos transfers', () => {
  let sender: TestAccount;
  let receiver: TestAccount;

  beforeAll(async () => {
    sender = await ts.user('kudos_sender', 2000);
    receiver = await ts.user('kudos_receiver', 100);
  });

  it('moves 500 kudos and conserves the total', async () => {
    const before = await ts.horde.store.ledgerTotals();
    const res = await ts.call('POST', '/kudos/transfer', {
      apikey: sender.apiKey,
      body: { username: receiver.alias, amount: 500 },
    });
    expect(res.status).toBe(200);
    expect(res.body.transferred).toBe(500);
    expect(await kudosOf(sender)).toBe(1500);
    expect(await kudosOf(receiver)).toBe(600);
    const after = await ts.horde.store.ledgerTotals();
    expect(after.minted - after.burnt).toBe(before.minted - before.burnt);
    expect(after.balances).toBe(before.balances);
  });

  it('refuses a transfer to oneself with 400 KudosTransferToSelf', async () => {
    const res = await ts.call('POST', '/kudos/transfer', {
      apikey: sender.apiKey,
      body: { username: sender.alias, amount: 10 },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('KudosTransferToSelf');
  });

  it('refuses a negative amount with 400 NegativeKudosTransfer', async () => {
    const res = await ts.call('POST', '/kudos/transfer', {
      apikey: sender.apiKey,
      body: { username: receiver.alias, amount: -10 },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('NegativeKudosTransfer');
  });

  it('refuses more than the sender has with 400 KudosTransferNotEnough', async () => {
    const res = await ts.call('POST', '/kudos/transfer', {
      apikey: sender.apiKey,
      body: { username: receiver.alias, amount: 1_000_000 },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('KudosTransferNotEnough');
    expect(await kudosOf(sender)).toBe(1500);
  });

  it('refuses the anonymous sender with 400 KudosTransferFromAnon', async () => {
    const res = await ts.call('POST', '/kudos/transfer', {
      apikey: '0000000000',
      body: { username: receiver.alias, amount: 10 },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('KudosTransferFromAnon');
  });

  it('refuses a transfer to Anonymous#0 with 400 KudosTransferToAnon', async () => {
    const res = await ts.call('POST', '/kudos/transfer', {
      apikey: sender.apiKey,
      body: { username: 'Anonymous#0', amount: 10 },
    });
    expect(res.status).toBe(400);
    expect(res.body.rc).toBe('KudosTransferToAnon');
  });

  it('moves kudos once for a replayed Idempotency-Key', async () => {
    const send = () =>
      ts.call('POST', '/kudos/transfer', {
        apikey: sender.apiKey,
        body: { username: receiver.alias, amount: 100 },
        headers: { 'Idempotency-Key': 'transfer-replay-1' },
      });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(first.body.transferred).toBe(100);
    expect(second.status).toBe(200);
    expect(second.body.transferred).toBe(100);
    expect(await kudosOf(sender)).toBe(1400);
    expect(await kudosOf(receiver)).toBe(700);
  });
});

describe('kudos awards', () => {
  it('refuses a non-privileged user with 403', async () => {
    const res = await ts.call('POST', '/kudos/award', {
      apikey: plain.apiKey,
      body: { username: ts.admin.alias, amount: 5000 },
    });
    expect(res.status).toBe(403);
    expect(res.body.rc).toBe('NotAllowedAwards');
  });

  it('credits an award by the administrator', async () => {
    const target = await ts.user('award_target', 10);
    const res = await ts.call('POST', '/kudos/award', {
      apikey: ts.admin.apiKey,
      body: { username: target.alias, amount: 5000 },
    });
    expect(res.status).toBe(200);
    expect(res.body.awarded).toBe(5000);
    expect(await kudosOf(target)).toBe(5010);
  });
});
