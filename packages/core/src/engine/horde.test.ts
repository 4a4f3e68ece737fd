import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../drivers/sqlite/index.js';
import { isHordeError } from '../errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createHorde } from './horde.js';

const REGEN = 'AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen';

async function setup() {
  const clock = new FakeClock();
  const store = await createSqliteStore({ path: ':memory:' });
  const horde = await createHorde({ store, clock, random: () => 0.5 });
  return { clock, store, horde };
}

describe('one image request, end to end', () => {
  it('is accepted, popped, submitted and settled', async () => {
    const { horde, clock } = await setup();
    const alice = await horde.registerAccount({ username: 'alice' });
    const bob = await horde.registerAccount({ username: 'bobworker' });
    expect(alice.apiKey).toHaveLength(22);

    const accepted = await horde.generateImage({ apiKey: alice.apiKey }, { prompt: 'a lighthouse at dusk' });
    expect(accepted.id).toBeTruthy();
    expect(accepted.warnings[0]?.code).toBe('NoAvailableWorker');
    const events: string[] = [];
    horde.onRequest(accepted.id!, (e) => events.push(e.type));

    const check = await horde.checkRequest(accepted.id!);
    expect(check).toMatchObject({
      waiting: 1,
      processing: 0,
      finished: 0,
      queue_position: 1,
      done: false,
      kudos: 3,
    });

    const pop = await horde.popImage(
      { apiKey: bob.apiKey },
      { name: 'bob-gpu', models: ['stable_diffusion'], bridge_agent: REGEN },
    );
    expect(pop.job).not.toBeNull();
    expect(pop.job!.payload).toMatchObject({
      prompt: 'a lighthouse at dusk',
      ddim_steps: 30,
      n_iter: 1,
      width: 512,
      height: 512,
    });
    expect(typeof pop.job!.payload.seed).toBe('string');
    expect(pop.job!.ttl).toBeGreaterThanOrEqual(150);

    clock.advance(5000);
    const submitted = await horde.submitImage(
      { apiKey: bob.apiKey },
      { id: pop.job!.id, generation: 'R2', seed: 42 },
    );
    expect(submitted.reward).toBeGreaterThan(0);

    const status = await horde.requestStatus(accepted.id!);
    expect(status).toMatchObject({ done: true, finished: 1, waiting: 0 });
    expect(status.generations[0]).toMatchObject({
      seed: '42',
      worker_name: 'bob-gpu',
      model: 'stable_diffusion',
      state: 'ok',
    });
    expect(events).toEqual(['processing', 'generation', 'done']);

    await expect(
      horde.submitImage({ apiKey: bob.apiKey }, { id: pop.job!.id, generation: 'R2', seed: 42 }),
    ).rejects.toSatisfy((e) => isHordeError(e, 'DuplicateGen'));
    const totals = await horde.store.ledgerTotals();
    expect(totals.balances + totals.escrow).toBe(totals.minted - totals.burnt);
  });

  it('tells a worker why nothing matched', async () => {
    const { horde } = await setup();
    const alice = await horde.registerAccount({ username: 'alice' });
    const bob = await horde.registerAccount({ username: 'bobworker' });
    await horde.generateImage(
      { apiKey: alice.apiKey },
      { prompt: 'big', params: { width: 1024, height: 1024 } },
    );
    await horde.generateImage({ apiKey: alice.apiKey }, { prompt: 'other model', models: ['Deliberate'] });
    const pop = await horde.popImage(
      { apiKey: bob.apiKey },
      { name: 'bob-gpu', models: ['stable_diffusion'], bridge_agent: REGEN },
    );
    expect(pop.job).toBeNull();
    expect(pop.skipped).toEqual({ max_pixels: 1, models: 1 });
  });
});
