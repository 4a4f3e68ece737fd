/**
 * Prometheus metrics at `/metrics` (prom-client, a registry per server): request latencies by route,
 * pops and submits, kudos moved, and — computed when scraped — queue depth by model and workers online.
 */
import type { Horde } from '@hordekit/core';
import type { Context } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  countPop(kind: 'image' | 'text', gotJob: boolean): void;
  countTransfer(kudos: number): void;
  handler(c: Context): Promise<Response>;
}

export function createMetrics(horde: Horde): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hordekit_process_' });
  const latency = new Histogram({
    name: 'hordekit_http_request_duration_seconds',
    help: 'HTTP request latency by route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const pops = new Counter({
    name: 'hordekit_pops_total',
    help: 'Worker pops, by kind and whether a job was handed out.',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const submits = new Counter({
    name: 'hordekit_submits_total',
    help: 'Jobs settled (completed) or failed, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const kudos = new Counter({
    name: 'hordekit_kudos_moved_total',
    help: 'Kudos moved, by kind: worker rewards, uptime rewards, transfers.',
    labelNames: ['kind'],
    registers: [registry],
  });
  new Gauge({
    name: 'hordekit_queue_jobs',
    help: 'Jobs waiting, by kind and model.',
    labelNames: ['kind', 'model'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const kind of ['image', 'text'] as const) {
        for (const model of await horde.modelStatuses(kind)) {
          this.set({ kind, model: model.name }, model.jobs);
        }
      }
    },
  });
  new Gauge({
    name: 'hordekit_workers_online',
    help: 'Workers checked in within the online window, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const performance = await horde.performance();
      this.set({ kind: 'image' }, performance.worker_count);
      this.set({ kind: 'text' }, performance.text_worker_count);
    },
  });

  horde.events.onAny((event) => {
    if (event.scope !== 'worker') return;
    if (event.type === 'completed') {
      submits.inc({ outcome: 'completed' });
      kudos.inc({ kind: 'reward' }, event.reward);
    } else if (event.type === 'failed') submits.inc({ outcome: event.reason });
    else if (event.type === 'uptime') kudos.inc({ kind: 'uptime' }, event.reward);
  });

  // prom-client resolves a label set on every call; a child per (method, route, status) skips that.
  const children = new Map<string, ReturnType<typeof latency.labels>>();
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const key = `${method} ${route} ${status}`;
      let child = children.get(key);
      if (!child) {
        child = latency.labels({ method, route, status: String(status) });
        children.set(key, child);
      }
      child.observe(seconds);
    },
    countPop(kind, gotJob) {
      pops.inc({ kind, result: gotJob ? 'job' : 'empty' });
    },
    countTransfer(amount) {
      kudos.inc({ kind: 'transfer' }, amount);
    },
    async handler(c) {
      return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
    },
  };
}
