/** Two nodes' event buses on a real Redis: what crosses between nodes and what stays local. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { testRedisUrl } from '../testing/services.js';
import { createRedisEventBus, type RedisEventBus } from './redis-bus.js';
import type { HordeEvent, RequestEvent, WorkerEvent } from './types.js';

const connections: Redis[] = [];
const buses: RedisEventBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
  await Promise.all(connections.splice(0).map((connection) => connection.quit()));
});

/** One node: a bus on a pair of connections of its own, on a channel private to the test. */
async function node(channel: string, nodeId: string, errors: unknown[] = []): Promise<RedisEventBus> {
  const redis = new Redis(testRedisUrl());
  const subscriber = new Redis(testRedisUrl());
  connections.push(redis, subscriber);
  const bus = createRedisEventBus({
    redis,
    subscriber,
    channel,
    nodeId,
    onListenerError: (error) => errors.push(error),
  });
  buses.push(bus);
  await bus.ready;
  return bus;
}

const generation = (requestId: string): HordeEvent => ({
  scope: 'request',
  type: 'generation',
  requestId,
  kind: 'image',
  at: 1,
  jobId: 'job-1',
  workerId: 'w-1',
  workerName: 'worker one',
  model: 'stable_diffusion',
  seed: '42',
  state: 'ok',
  censored: false,
});

const position = (requestId: string): HordeEvent => ({
  scope: 'request',
  type: 'position',
  requestId,
  kind: 'image',
  at: 1,
  position: 3,
  waitTime: 10,
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets messages in flight arrive: a round trip on each bus's connection has passed. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('the Redis event bus', () => {
  it("delivers another node's request and worker events to listeners, but not to onAny", async () => {
    const channel = `test:${randomUUID()}`;
    const a = await node(channel, 'a');
    const b = await node(channel, 'b');
    const onB: RequestEvent[] = [];
    const workerOnB: WorkerEvent[] = [];
    const anyOnA: HordeEvent[] = [];
    const anyOnB: HordeEvent[] = [];
    b.onRequest('r-1', (event) => onB.push(event));
    b.onWorker('w-1', (event) => workerOnB.push(event));
    a.onAny((event) => anyOnA.push(event));
    b.onAny((event) => anyOnB.push(event));

    a.publish(generation('r-1'));
    a.publish({
      scope: 'worker',
      type: 'uptime',
      workerId: 'w-1',
      workerName: 'worker one',
      at: 2,
      reward: 5,
    });
    await until(() => onB.length === 1 && workerOnB.length === 1);
    expect(onB[0]).toMatchObject({ type: 'generation', requestId: 'r-1', seed: '42' });
    expect(onB[0]).not.toHaveProperty('scope');
    expect(workerOnB[0]).toMatchObject({ type: 'uptime', reward: 5 });
    await settle();
    expect(anyOnA.map((event) => event.type)).toEqual(['generation', 'uptime']);
    expect(anyOnB).toEqual([]);
    expect([...b.watchedRequests()]).toEqual(['r-1']);
    expect([...a.watchedRequests()]).toEqual([]);
  });

  it('delivers locally at once and ignores its own messages', async () => {
    const channel = `test:${randomUUID()}`;
    const a = await node(channel, 'a');
    const seen: RequestEvent[] = [];
    a.onRequest('r-1', (event) => seen.push(event));
    a.publish(generation('r-1'));
    expect(seen).toHaveLength(1);
    await settle();
    expect(seen).toHaveLength(1);
  });

  it('keeps position events on the node that computed them', async () => {
    const channel = `test:${randomUUID()}`;
    const a = await node(channel, 'a');
    const b = await node(channel, 'b');
    const onA: RequestEvent[] = [];
    const onB: RequestEvent[] = [];
    a.onRequest('r-1', (event) => onA.push(event));
    b.onRequest('r-1', (event) => onB.push(event));
    a.publish(position('r-1'));
    a.publish(generation('r-1'));
    await until(() => onB.length === 1);
    await settle();
    expect(onA.map((event) => event.type)).toEqual(['position', 'generation']);
    expect(onB.map((event) => event.type)).toEqual(['generation']);
  });

  it('goes on delivering when a listener throws, and drops unreadable messages', async () => {
    const channel = `test:${randomUUID()}`;
    const errors: unknown[] = [];
    const a = await node(channel, 'a');
    const b = await node(channel, 'b', errors);
    const onB: RequestEvent[] = [];
    b.onRequest('r-1', () => {
      throw new Error('listener broke');
    });
    b.onRequest('r-1', (event) => onB.push(event));

    const raw = new Redis(testRedisUrl());
    connections.push(raw);
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ node: 'c', event: { scope: 'request' } }));
    a.publish(generation('r-1'));
    await until(() => onB.length === 1);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      expect.stringMatching(/JSON/),
      'malformed event message',
      'listener broke',
    ]);
  });

  it('stops receiving from other nodes after close()', async () => {
    const channel = `test:${randomUUID()}`;
    const a = await node(channel, 'a');
    const b = await node(channel, 'b');
    const onB: RequestEvent[] = [];
    b.onRequest('r-1', (event) => onB.push(event));
    a.publish(generation('r-1'));
    await until(() => onB.length === 1);

    await b.close();
    const probe = connections[0]!;
    expect(await probe.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    a.publish(generation('r-1'));
    await settle();
    expect(onB).toHaveLength(1);
    // Still a working local bus.
    b.publish(generation('r-1'));
    expect(onB).toHaveLength(2);
  });
});
