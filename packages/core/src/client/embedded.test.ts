import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../drivers/sqlite/index.js';
import { createHorde } from '../engine/horde.js';
import type { RequestEvent } from '../events/types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createEmbeddedClient } from './embedded.js';

const REGEN = 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen';

describe('the embedded HordeClient', () => {
  it('serves a chat user end to end: account, request, events, balance, transfer', async () => {
    const clock = new FakeClock();
    const horde = await createHorde({ store: await createSqliteStore({ path: ':memory:' }), clock });
    const client = createEmbeddedClient(horde);

    const alice = await client.accountFor({ provider: 'discord', externalId: '111', username: 'Alice' });
    expect(alice.created).toBe(true);
    expect(alice.account.alias).toBe(`Alice#${alice.account.id}`);
    expect(
      (await client.accountFor({ provider: 'discord', externalId: '111', username: 'Alice' })).created,
    ).toBe(false);
    const bob = await client.accountFor({ provider: 'telegram', externalId: '222', username: 'Bob' });

    const { id } = await client.generateImage(alice.credentials, {
      prompt: 'a lighthouse at dusk',
      nsfw: false,
    });
    const events: RequestEvent[] = [];
    const watching = (async () => {
      for await (const event of client.watch(id!)) events.push(event);
    })();

    const gpu = await horde.registerAccount({ username: 'gpu-owner' });
    const pop = await horde.popImage(
      { apiKey: gpu.apiKey },
      { name: 'gpu-one', models: ['stable_diffusion'], bridge_agent: REGEN, nsfw: false },
    );
    clock.advance(3000);
    await horde.submitImage({ apiKey: gpu.apiKey }, { id: pop.job!.id, generation: 'R2', seed: 7 });
    await watching;
    expect(events.map((e) => e.type)).toEqual(['processing', 'generation', 'done']);

    const status = await client.status(id!);
    expect(status.done).toBe(true);
    const account = await client.account(alice.credentials);
    expect(account.kudos).toBeGreaterThan(0); // the floor (14) minus nothing: fresh accounts are lifted to it
    const activity = await client.activity(alice.credentials, { limit: 5 });
    expect(activity.map((m) => m.kind)).toContain('generation');
    expect(activity.some((m) => m.kind === 'activation')).toBe(true);

    // Alice holds the pseudonymous floor (14) minus what she spent; she cannot give it away.
    await expect(
      client.transfer(alice.credentials, { to: bob.account.alias, amount: 5 }),
    ).rejects.toMatchObject({
      rc: 'KudosTransferNotEnough',
    });
    await horde.store.adjustBalance({
      accountId: alice.account.id,
      kind: 'award',
      amount: 10_000,
      bucket: 'awarded',
      at: clock.now(),
    });
    const sent = await client.transfer(alice.credentials, {
      to: bob.account.alias,
      amount: 5,
      idempotencyKey: 'k1',
    });
    expect(sent).toMatchObject({ transferred: 5, replayed: false });
    expect(
      (await client.transfer(alice.credentials, { to: bob.account.alias, amount: 5, idempotencyKey: 'k1' }))
        .replayed,
    ).toBe(true);
    expect((await client.account(bob.credentials)).kudos).toBe(5);

    expect((await client.models('image')).find((m) => m.name === 'stable_diffusion')?.count).toBe(1);
    expect((await client.workers('image')).map((w) => w.name)).toEqual(['gpu-one']);
    await horde.close();
  });

  it('ends a watch at once for a request that already ended, and on abort', async () => {
    const horde = await createHorde({ store: await createSqliteStore({ path: ':memory:' }) });
    const client = createEmbeddedClient(horde);
    const { id } = await client.generateImage({ apiKey: '0000000000' }, { prompt: 'x' });
    await client.cancel(id!);
    const ended: string[] = [];
    for await (const event of client.watch(id!)) ended.push(event.type);
    expect(ended).toEqual(['cancelled']);

    const second = await client.generateImage({ apiKey: '0000000000' }, { prompt: 'y' });
    const controller = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const event of client.watch(second.id!, { signal: controller.signal }))
        seen.push(event.type);
    })();
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await watching;
    expect(seen).toEqual([]);
    await horde.close();
  });

  it('reads image bytes: inline base64 as it is, uploads through the reader, and says when one is gone', async () => {
    const horde = await createHorde({ store: await createSqliteStore({ path: ':memory:' }) });
    const uploaded = new Map([['job-up', Uint8Array.from([1, 2, 3])]]);
    const client = createEmbeddedClient(horde, { readImage: async (jobId) => uploaded.get(jobId) });
    expect([
      ...(await client.image({ id: 'job-inline', generation: Buffer.from('webp!').toString('base64') })),
    ]).toEqual([...Buffer.from('webp!')]);
    expect([...(await client.image({ id: 'job-up', generation: 'R2' }))]).toEqual([1, 2, 3]);
    await expect(client.image({ id: 'job-gone', generation: 'R2' })).rejects.toMatchObject({
      rc: 'RequestNotFound',
    });
    await expect(createEmbeddedClient(horde).image({ id: 'job-up', generation: 'R2' })).rejects.toThrow(
      /no longer/,
    );
    await horde.close();
  });

  it('workerKey gives a chat account a working key (retiring the old); linkIdentity re-points an identity', async () => {
    const horde = await createHorde({ store: await createSqliteStore({ path: ':memory:' }) });
    const client = createEmbeddedClient(horde);
    const alice = await client.accountFor({ provider: 'discord', externalId: 'a', username: 'Alice' });
    const first = await client.workerKey(alice.credentials);
    expect((await horde.authenticate({ apiKey: first })).id).toBe(alice.account.id);
    const second = await client.workerKey(alice.credentials);
    await expect(horde.authenticate({ apiKey: first })).rejects.toMatchObject({ rc: 'InvalidAPIKey' });
    expect((await horde.authenticate({ apiKey: second })).id).toBe(alice.account.id);

    const other = await client.accountFor({ provider: 'telegram', externalId: 't', username: 'Alice T' });
    expect(other.account.id).not.toBe(alice.account.id);
    await client.linkIdentity(alice.credentials, {
      provider: 'telegram',
      externalId: 't',
      username: 'Alice T',
    });
    const linked = await client.accountFor({ provider: 'telegram', externalId: 't', username: 'Alice T' });
    expect(linked.account.id).toBe(alice.account.id);
    await expect(
      client.linkIdentity({ apiKey: '0000000000' }, { provider: 'slack', externalId: 's', username: 'x' }),
    ).rejects.toMatchObject({ rc: 'AnonForbidden' });
    await expect(
      client.linkIdentity(alice.credentials, { provider: '', externalId: '', username: '' }),
    ).rejects.toMatchObject({
      rc: 'BadRequest',
    });
    await horde.close();
  });
});
