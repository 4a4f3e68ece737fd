/** Generation statistics: what `completeJob` counts, per model and window, as time passes. */
import { describe, expect, it } from 'vitest';
import type { GenerationStats, HordeStore, StatsWindow, WorkerRecord } from '../../storage/types.js';
import {
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  fail,
  HOUR,
  imageRequest,
  MINUTE,
  RESULT,
  SECOND,
  T0,
  textProfile,
  textRequest,
} from './fixtures.js';
import type { Harness } from './harness.js';

const DAY = 24 * HOUR;
const MONTH = 30 * DAY;
/** 512 × 512 × 30, the default image request's pixelsteps. */
const PIXELSTEPS = 512 * 512 * 30;

interface Party {
  requesterId: number;
  imageWorker: WorkerRecord;
  textWorker: WorkerRecord;
}

async function party(store: HordeStore): Promise<Party> {
  const requester = await createAccount(store, { balance: 100_000 });
  const owner = await createAccount(store);
  return {
    requesterId: requester.id,
    imageWorker: await checkIn(store, { ownerId: owner.id }),
    textWorker: await checkIn(store, { ownerId: owner.id, profile: textProfile() }),
  };
}

/** Enqueues, claims and completes one job on `model` at `at`. */
async function generate(
  store: HordeStore,
  p: Party,
  options: { kind?: 'image' | 'text'; model?: string; at?: number; censored?: boolean } = {},
) {
  const { kind = 'image', at = T0 + MINUTE } = options;
  const model = options.model ?? (kind === 'image' ? 'stable_diffusion' : 'koboldcpp/tiny');
  const request = await enqueue(
    store,
    kind === 'image'
      ? imageRequest(p.requesterId, { createdAt: at })
      : textRequest(p.requesterId, { createdAt: at }),
  );
  const worker = kind === 'image' ? p.imageWorker : p.textWorker;
  const [job] = await claim(store, request.id, worker, { model, now: at });
  const result = options.censored ? { ...RESULT, censored: true } : RESULT;
  expect((await complete(store, job!, { now: at, result })).outcome).toBe('settled');
  return job!;
}

/** Jobs of `model` per window (0 for a model without a row). */
function jobsOf(stats: GenerationStats, model: string): Record<StatsWindow, number> {
  const row = stats.models.find((r) => r.model === model);
  return {
    minute: row?.minute.jobs ?? 0,
    hour: row?.hour.jobs ?? 0,
    day: row?.day.jobs ?? 0,
    month: row?.month.jobs ?? 0,
    total: row?.total.jobs ?? 0,
  };
}

const counts = (minute: number, hour: number, day: number, month: number, total: number) => ({
  minute,
  hour,
  day,
  month,
  total,
});

export function generationStatsCases(h: Harness): void {
  describe('generationStats', () => {
    it('is empty before anything completes', async () => {
      expect(await h.store.generationStats('image', T0)).toEqual({ kind: 'image', models: [] });
      expect(await h.store.generationStats('text', T0)).toEqual({ kind: 'text', models: [] });
    });

    it('counts completed jobs and their things per kind and model, censored ones included', async () => {
      const p = await party(h.store);
      const at = T0 + MINUTE;
      await generate(h.store, p, { model: 'stable_diffusion', at });
      await generate(h.store, p, { model: 'stable_diffusion', at, censored: true });
      await generate(h.store, p, { model: 'Deliberate', at });
      await generate(h.store, p, { kind: 'text', model: 'koboldcpp/tiny', at });

      const image = await h.store.generationStats('image', at);
      expect(image.kind).toBe('image');
      expect(image.models.map((r) => r.model)).toEqual(['Deliberate', 'stable_diffusion']);
      const sd = { jobs: 2, things: 2 * PIXELSTEPS };
      expect(image.models[1]).toEqual({
        model: 'stable_diffusion',
        minute: sd,
        hour: sd,
        day: sd,
        month: sd,
        total: sd,
      });
      expect(jobsOf(image, 'Deliberate')).toEqual(counts(1, 1, 1, 1, 1));
      const text = await h.store.generationStats('text', at);
      const tiny = { jobs: 1, things: 80 };
      expect(text.models).toEqual([
        { model: 'koboldcpp/tiny', minute: tiny, hour: tiny, day: tiny, month: tiny, total: tiny },
      ]);
    });

    it('counts neither faulted nor aborted jobs, nor a refused or repeated settle', async () => {
      const p = await party(h.store);
      const request = await enqueue(h.store, imageRequest(p.requesterId));
      const [first] = await claim(h.store, request.id, p.imageWorker);
      await fail(h.store, first!.id, { reason: 'faulted', faultAfter: 3 });
      const [second] = await claim(h.store, request.id, p.imageWorker);
      await fail(h.store, second!.id, { reason: 'aborted', faultAfter: 3 });
      expect((await complete(h.store, second!)).outcome).toBe('aborted');
      const [third] = await claim(h.store, request.id, p.imageWorker);
      expect((await complete(h.store, third!, { workerId: p.textWorker.id })).outcome).toBe('wrong-worker');
      expect((await h.store.generationStats('image', T0 + MINUTE)).models).toEqual([]);

      expect((await complete(h.store, third!)).outcome).toBe('settled');
      expect((await complete(h.store, third!)).outcome).toBe('duplicate');
      expect(jobsOf(await h.store.generationStats('image', T0 + MINUTE), 'stable_diffusion')).toEqual(
        counts(1, 1, 1, 1, 1),
      );
    });

    it('rolls each window: counted within it, gone once it (and a bucket) have passed', async () => {
      const p = await party(h.store);
      const at = T0 + 10 * MINUTE + 30 * SECOND;
      await generate(h.store, p, { at });
      const jobsAt = async (now: number) =>
        jobsOf(await h.store.generationStats('image', now), 'stable_diffusion');
      expect(await jobsAt(at)).toEqual(counts(1, 1, 1, 1, 1));
      expect(await jobsAt(at + MINUTE - SECOND)).toEqual(counts(1, 1, 1, 1, 1));
      expect(await jobsAt(at + 2 * MINUTE + SECOND)).toEqual(counts(0, 1, 1, 1, 1));
      expect(await jobsAt(at + HOUR - SECOND)).toEqual(counts(0, 1, 1, 1, 1));
      expect(await jobsAt(at + HOUR + MINUTE + SECOND)).toEqual(counts(0, 0, 1, 1, 1));
      expect(await jobsAt(at + DAY - SECOND)).toEqual(counts(0, 0, 1, 1, 1));
      expect(await jobsAt(at + DAY + HOUR + SECOND)).toEqual(counts(0, 0, 0, 1, 1));
      expect(await jobsAt(at + MONTH - SECOND)).toEqual(counts(0, 0, 0, 1, 1));
      expect(await jobsAt(at + MONTH + HOUR + SECOND)).toEqual(counts(0, 0, 0, 0, 1));
    });

    it('keeps every window right while later work and sweeps age the older counts', async () => {
      const p = await party(h.store);
      const at = T0 + 5 * MINUTE;
      await generate(h.store, p, { at, model: 'a' });
      await generate(h.store, p, { at: at + 2 * HOUR, model: 'b' });
      let stats = await h.store.generationStats('image', at + 2 * HOUR);
      expect(jobsOf(stats, 'a')).toEqual(counts(0, 0, 1, 1, 1));
      expect(jobsOf(stats, 'b')).toEqual(counts(1, 1, 1, 1, 1));

      await generate(h.store, p, { at: at + 3 * DAY, model: 'b' });
      stats = await h.store.generationStats('image', at + 3 * DAY);
      expect(jobsOf(stats, 'a')).toEqual(counts(0, 0, 0, 1, 1));
      expect(jobsOf(stats, 'b')).toEqual(counts(1, 1, 1, 2, 2));

      // A sweep long after, with no settle in between.
      const late = at + MONTH + 2 * DAY;
      await h.store.expireRequests(late, 100);
      stats = await h.store.generationStats('image', late);
      expect(jobsOf(stats, 'a')).toEqual(counts(0, 0, 0, 0, 1));
      expect(jobsOf(stats, 'b')).toEqual(counts(0, 0, 0, 1, 2));
      await generate(h.store, p, { at: late, model: 'a' });
      stats = await h.store.generationStats('image', late);
      expect(jobsOf(stats, 'a')).toEqual(counts(1, 1, 1, 1, 2));
      expect(stats.models.find((r) => r.model === 'a')?.total.things).toBe(2 * PIXELSTEPS);
    });

    it('keeps its counts across a reopen', async (ctx) => {
      ctx.skip(!h.canReopen, 'the driver gave no reopen(): a throw-away store has nothing to persist');
      const p = await party(h.store);
      const at = T0 + 5 * MINUTE;
      await generate(h.store, p, { at, model: 'a' });
      await generate(h.store, p, { at: at + 2 * HOUR, model: 'a' });
      await generate(h.store, p, { at: at + 2 * HOUR, kind: 'text' });
      await generate(h.store, p, { at: at + MONTH + 3 * HOUR, model: 'b' });
      const now = at + MONTH + 3 * HOUR + 30 * SECOND;
      const before = [
        await h.store.generationStats('image', now),
        await h.store.generationStats('text', now),
      ];
      expect(jobsOf(before[0]!, 'a')).toEqual(counts(0, 0, 0, 0, 2));
      await h.reopen();
      expect([
        await h.store.generationStats('image', now),
        await h.store.generationStats('text', now),
      ]).toEqual(before);
    });
  });
}
