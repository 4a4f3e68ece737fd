import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createHorde } from '@hordekit/core';
import { createPostgresStore } from '@hordekit/core/postgres';
import { createSqliteStore } from '@hordekit/core/sqlite';
import { createTestDatabase, type TestDatabase } from '@hordekit/core/testing';
import { createPostgresBlobStore, createSqliteBlobStore } from '@hordekit/horde-server';
import Keyv from 'keyv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from './migrate.js';

const REGEN = 'AI Horde Worker reGen:13.0.0:https://github.com/Haidra-Org/horde-worker-reGen';
const KOBOLD = 'KoboldCppEmbedWorker:1';
const IMAGE_WORKER = { name: 'bob-gpu', models: ['stable_diffusion'], bridge_agent: REGEN };
const TEXT_WORKER = { name: 'bob-llm', models: ['koboldcpp/tiny'], bridge_agent: KOBOLD, max_length: 512 };
const IMAGE_KEY = 'img-1.webp';
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let dataDir: string;
let database: TestDatabase | undefined;
let databaseUrl: string;
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hordekit-migrate-'));
  database = await createTestDatabase('migrate');
  databaseUrl = database.url;
});
afterEach(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await database?.drop();
});

async function migrate(args = ['--data-dir', dataDir, '--database-url', databaseUrl]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {}, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A community horde as `npm start` leaves it: accounts, money, requests in every state, two workers, an image. */
async function embeddedHorde() {
  const pepper = randomBytes(32).toString('base64url');
  const secrets = { apiKeyPepper: pepper, signingSecret: randomBytes(32).toString('base64url') };
  writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify(secrets), { mode: 0o600 });
  const store = await createSqliteStore({ path: join(dataDir, 'horde.db') });
  const blobs = await createSqliteBlobStore({ path: join(dataDir, 'images.db') });
  const horde = await createHorde({ store, apiKeyPepper: pepper, config: { accounts: { adminIds: [1] } } });

  const admin = await horde.registerAccount({
    username: 'admin',
    kind: 'verified',
    roles: { moderator: true },
  });
  const alice = await horde.registerAccount({ username: 'alice' });
  const bob = await horde.registerAccount({ username: 'bob' });
  const carol = await horde.registerAccount({ username: 'carol' });
  await horde.modifyAccount({ apiKey: admin.apiKey }, alice.account.id, { kudos: 5000 });
  await horde.award({ apiKey: admin.apiKey }, `carol#${carol.account.id}`, 150);
  await horde.transfer(
    { apiKey: alice.apiKey },
    { to: `carol#${carol.account.id}`, amount: 250, idempotencyKey: 'gift-1' },
  );
  await horde.accountForIdentity('discord', '424242', { username: 'dora' });
  await store.linkIdentity(alice.account.id, 'telegram', '777');

  const asAlice = { apiKey: alice.apiKey };
  const asBob = { apiKey: bob.apiKey };
  // Served: an image and a text.
  await horde.generateImage(asAlice, { prompt: 'a lighthouse at dusk' });
  const served = (await horde.popImage(asBob, IMAGE_WORKER)).job!;
  await horde.submitImage(asBob, { id: served.id, generation: 'R2', seed: 1 });
  await horde.generateText(asAlice, { prompt: 'Once upon a time', params: { max_length: 80 } });
  const written = (await horde.popText(asBob, TEXT_WORKER)).job!;
  await horde.submitText(asBob, { id: written.id, generation: 'there was a horde' });
  // In flight when the horde stops; then waiting ones, one of them anonymous; and a cancelled one.
  const inFlight = (await horde.generateImage(asAlice, { prompt: 'a harbour at night' })).id!;
  const inFlightJob = (await horde.popImage(asBob, IMAGE_WORKER)).job!.id;
  const waitingImage = (await horde.generateImage(asAlice, { prompt: 'a castle in fog' })).id!;
  const waitingText = (await horde.generateText(asAlice, { prompt: 'Call me', params: { max_length: 80 } }))
    .id!;
  const anonymous = (await horde.generateImage({ apiKey: '0000000000' }, { prompt: 'a cat' })).id!;
  // Above the free size: kudos reserved upfront until it ends.
  const upfront = (
    await horde.generateImage(asAlice, { prompt: 'a wide valley', params: { width: 1536, height: 1536 } })
  ).id!;
  await horde.cancelRequest((await horde.generateImage(asAlice, { prompt: 'never mind' })).id!);

  await new Keyv({ store: store.keyvStore(), namespace: 'chat-settings' }).set('discord:424242', {
    style: 'anime',
    nsfw: false,
  });
  const image = randomBytes(300_000);
  await blobs.put(IMAGE_KEY, image);
  const totals = await store.ledgerTotals();
  expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
  await blobs.close();
  await horde.close();
  return {
    pepper,
    alice,
    bob,
    inFlight,
    inFlightJob,
    waiting: [waitingImage, waitingText, anonymous],
    upfront,
    image,
  };
}

describe('npm run migrate:sqlite-to-postgres', () => {
  it('moves an embedded horde to PostgreSQL: accounts, keys, money, journal, workers, waiting requests', async () => {
    const before = await embeddedHorde();
    const run = await migrate();
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('verified: kudos totals match');

    const sqlite = await createSqliteStore({ path: join(dataDir, 'horde.db') });
    const store = await createPostgresStore({ connectionString: databaseUrl, poolSize: 4 });
    const blobs = await createPostgresBlobStore({ connectionString: databaseUrl });
    try {
      // The same records through both drivers.
      const accounts = await sqlite.listAccounts({ offset: 0, limit: 100, sort: 'age' });
      expect(accounts.map((a) => a.id)).toEqual([0, 1, 2, 3, 4, 5]);
      const alice = accounts.find((a) => a.id === before.alice.account.id)!;
      // In flight, two waiting, one waiting with kudos reserved; the anonymous account's; the owner's escrow.
      expect([alice.activeJobs, alice.reserved > 0, accounts[0]!.activeJobs]).toEqual([4, true, 1]);
      expect(accounts.find((a) => a.id === before.bob.account.id)!.escrow).toBeGreaterThan(0);
      for (const account of accounts) expect(await store.getAccount(account.id)).toEqual(account);
      expect(await store.readJournal()).toEqual(await sqlite.readJournal());
      expect(await store.ledgerTotals()).toEqual(await sqlite.ledgerTotals());
      for (const id of [...before.waiting, before.inFlight, before.upfront]) {
        expect(await store.getRequest(id)).toEqual(await sqlite.getRequest(id));
        expect(await store.listRequestJobs(id)).toEqual(await sqlite.listRequestJobs(id));
      }
      const workers = await sqlite.listWorkers();
      expect(workers).toHaveLength(2);
      for (const worker of workers) expect(await store.getWorker(worker.id)).toEqual(worker);
      expect(await store.getAccountByIdentity('discord', '424242')).toEqual(
        await sqlite.getAccountByIdentity('discord', '424242'),
      );
      expect(await store.queueSummary('image')).toEqual(await sqlite.queueSummary('image'));
      expect(await store.queueSummary('text')).toEqual(await sqlite.queueSummary('text'));

      // The horde goes on on PostgreSQL with the migrated pepper: old keys work, work continues.
      const { rows } = await store.pool.query("SELECT value FROM settings WHERE key = 'api_key_pepper'");
      expect(rows[0].value).toBe(before.pepper);
      const horde = await createHorde({
        store,
        apiKeyPepper: rows[0].value,
        config: { accounts: { adminIds: [1] } },
      });
      expect((await horde.authenticate({ apiKey: before.alice.apiKey })).id).toBe(before.alice.account.id);
      const asBob = { apiKey: before.bob.apiKey };
      await horde.submitImage(asBob, { id: before.inFlightJob, generation: 'R2', seed: 2 });
      expect((await horde.requestStatus(before.inFlight)).done).toBe(true);
      const image = (await horde.popImage(asBob, IMAGE_WORKER)).job!;
      const imageRequest = (await store.getJob(image.id))!.requestId;
      expect(before.waiting).toContain(imageRequest);
      await horde.submitImage(asBob, { id: image.id, generation: 'R2', seed: 3 });
      expect((await horde.requestStatus(imageRequest)).done).toBe(true);
      const text = (await horde.popText(asBob, TEXT_WORKER)).job!;
      await horde.submitText(asBob, { id: text.id, generation: 'Ishmael' });
      expect((await horde.requestStatus(before.waiting[1]!)).done).toBe(true);
      const erin = await horde.registerAccount({ username: 'erin' });
      expect(erin.account.id).toBe(6);
      await horde.transfer({ apiKey: before.alice.apiKey }, { to: `erin#6`, amount: 10 });
      const totals = await store.ledgerTotals();
      expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);

      const settings = new Keyv({ store: store.keyvStore(), namespace: 'chat-settings' });
      expect(await settings.get('discord:424242')).toEqual({ style: 'anime', nsfw: false });
      expect(Buffer.from((await blobs.get(IMAGE_KEY))!).equals(before.image)).toBe(true);
    } finally {
      await blobs.close();
      await store.close();
      await sqlite.close();
    }
  });

  it('refuses to merge into a horde that already has data, and to copy a running horde', async () => {
    await embeddedHorde();
    // While a horde has the files open (even idle), nothing is copied.
    const running = await createSqliteStore({ path: join(dataDir, 'horde.db') });
    const busy = await migrate();
    await running.close();
    expect(busy.code).toBe(2);
    expect(busy.err).toMatch(/horde\.db is in use.*npm start/);

    expect((await migrate()).code).toBe(0);
    // The real command line, a second time: exit 2, one-way.
    const second = await promisify(execFile)(
      process.execPath,
      ['--conditions=@hordekit/source', '--import', 'tsx', 'apps/community-horde/src/migrate.ts'],
      { cwd: ROOT, env: { ...process.env, HORDEKIT_DATA_DIR: dataDir, DATABASE_URL: databaseUrl } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('already holds a horde (6 accounts)');
    expect(second.stderr).toContain('never merges');
  });

  it('says what is missing', async () => {
    const missing = await migrate(['--data-dir', join(dataDir, 'nowhere'), '--database-url', databaseUrl]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`the data directory ${join(dataDir, 'nowhere')} does not exist`);
    const empty = await migrate();
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('horde.db is missing');
    expect((await migrate(['--data-dir', dataDir])).err).toContain('set DATABASE_URL');
  });
});
