/** Candidate scans in priority order with the indexable filters, queue positions and summaries. */
import { describe, expect, it } from 'vitest';
import { ALL_NEEDS, missingNeedReason, Need } from '../../scheduler/requirements.js';
import {
  candidateIds,
  checkIn,
  claim,
  complete,
  createAccount,
  enqueue,
  fail,
  getRequest,
  type ImageRequestOptions,
  imageQuery,
  imageRequest,
  MINUTE,
  T0,
  textQuery,
  textRequest,
} from './fixtures.js';
import type { Harness } from './harness.js';

export function queueCases(h: Harness): void {
  describe('findCandidates', () => {
    it('orders by sortKey, highest first, FIFO on ties', async () => {
      const a = await createAccount(h.store);
      const low = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 5 });
      const high = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 50 });
      const tieFirst = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 20 });
      const tieSecond = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 20 });
      // Aging: older requests gain on newer ones with the same priority.
      const aging = { amount: 1, intervalMs: MINUTE };
      const aged = await enqueue(h.store, imageRequest(a.id, { createdAt: T0 }), {
        priorityOverride: 10,
        aging,
      });
      const young = await enqueue(h.store, imageRequest(a.id, { createdAt: T0 + 30 * MINUTE }), {
        priorityOverride: 30,
        aging,
      });
      expect(young.sortKey).toBeLessThan(aged.sortKey);
      expect(await candidateIds(h.store, imageQuery())).toEqual([
        high.id,
        tieFirst.id,
        tieSecond.id,
        low.id,
        aged.id,
        young.id,
      ]);
      const page = await h.store.findCandidates(imageQuery());
      expect(page.candidates[0]).toEqual(await getRequest(h.store, high.id));
      expect(page.next).toBeNull();
    });

    it('pages with after and next', async () => {
      const a = await createAccount(h.store);
      const ids: string[] = [];
      for (const priority of [9, 8, 8, 7, 6]) {
        ids.push((await enqueue(h.store, imageRequest(a.id), { priorityOverride: priority })).id);
      }
      ids.push((await enqueue(h.store, imageRequest(a.id, { models: [] }), { priorityOverride: 7 })).id);
      const order = [ids[0], ids[1], ids[2], ids[3], ids[5], ids[4]];
      const seen: string[] = [];
      let page = await h.store.findCandidates(imageQuery({ limit: 2 }));
      for (let guard = 0; guard < 10; guard++) {
        seen.push(...page.candidates.map((r) => r.id));
        expect(page.candidates.length).toBeLessThanOrEqual(2);
        if (!page.next) break;
        page = await h.store.findCandidates(imageQuery({ limit: 2, after: page.next }));
      }
      expect(seen).toEqual(order);
      const third = await getRequest(h.store, ids[2]!);
      expect(
        await candidateIds(h.store, imageQuery({ after: { sortKey: third.sortKey, seq: third.seq } })),
      ).toEqual(order.slice(3));
      expect((await h.store.findCandidates(imageQuery({ limit: 6 }))).next).toBeNull();
    });

    it('applies the model, size and needs filters, and counts what they skip', async () => {
      const a = await createAccount(h.store);
      // Explicit needs: a default body needs `nsfw`, which this worker does not offer.
      const plain = (options: ImageRequestOptions) =>
        enqueue(h.store, imageRequest(a.id, { needs: 0, ...options }));
      const sd = await plain({ models: ['stable_diffusion'] });
      const any = await plain({ models: [] });
      const both = await plain({ models: ['other', 'stable_diffusion'] });
      const other = await plain({ models: ['other'] });
      const big = await plain({ width: 1024, height: 1024 });
      const lora = await plain({ needs: Need.lora | Need.controlnet });
      const nsfw = await plain({ needs: Need.nsfw });
      const all = [sd, any, both, other, big, lora, nsfw].map((r) => r.id);
      expect(await candidateIds(h.store, imageQuery())).toEqual(all.filter((id) => id !== other.id));

      const offers = ALL_NEEDS & ~(Need.lora | Need.controlnet | Need.nsfw);
      const strict = imageQuery({ acceptsAnyModel: false, maxPixels: 512 * 512, offers, countSkips: true });
      const page = await h.store.findCandidates(strict);
      expect(page.candidates.map((r) => r.id)).toEqual([sd.id, both.id]);
      const loraReason = missingNeedReason(Need.lora | Need.controlnet, offers)!;
      expect(loraReason).toBe('lora');
      expect(page.skipped).toEqual({ models: 2, max_pixels: 1, lora: 1, nsfw: 1 });
      // The same scan without countSkips gives the same candidates.
      expect(await candidateIds(h.store, { ...strict, countSkips: false })).toEqual([sd.id, both.id]);
      expect(await candidateIds(h.store, imageQuery({ models: ['other'], acceptsAnyModel: false }))).toEqual([
        both.id,
        other.id,
      ]);
      expect(await candidateIds(h.store, imageQuery({ models: [], acceptsAnyModel: true }))).toEqual([
        any.id,
      ]);
      expect(await candidateIds(h.store, textQuery())).toEqual([]);
    });

    it('filters text requests by max length and max context length', async () => {
      const a = await createAccount(h.store);
      const short = await enqueue(h.store, textRequest(a.id, { maxLength: 100, maxContextLength: 1024 }));
      const long = await enqueue(h.store, textRequest(a.id, { maxLength: 500, maxContextLength: 1024 }));
      const wide = await enqueue(h.store, textRequest(a.id, { maxLength: 100, maxContextLength: 8192 }));
      const named = await enqueue(h.store, textRequest(a.id, { models: ['koboldcpp/tiny'] }));
      const validated = await enqueue(h.store, textRequest(a.id, { needs: Need.validatedBackend }));
      const page = await h.store.findCandidates(
        textQuery({
          models: ['koboldcpp/tiny'],
          maxLength: 200,
          maxContextLength: 4096,
          offers: ALL_NEEDS & ~Need.validatedBackend,
          countSkips: true,
        }),
      );
      expect(page.candidates.map((r) => r.id)).toEqual([short.id, named.id]);
      expect(page.skipped).toEqual({
        max_length: 1,
        max_context_length: 1,
        [missingNeedReason(Need.validatedBackend, 0)!]: 1,
      });
      expect(await candidateIds(h.store, textQuery({ models: ['koboldcpp/tiny'] }))).toEqual([
        short.id,
        long.id,
        wide.id,
        named.id,
        validated.id,
      ]);
      expect(await candidateIds(h.store, imageQuery())).toEqual([]);
    });

    it('restricts to ownerIds, still in order, filtered and paged', async () => {
      const a = await createAccount(h.store);
      const b = await createAccount(h.store);
      const c = await createAccount(h.store);
      const a1 = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 1 });
      const b1 = await enqueue(h.store, imageRequest(b.id), { priorityOverride: 3 });
      await enqueue(h.store, imageRequest(c.id), { priorityOverride: 9 });
      const a2 = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 2 });
      await enqueue(h.store, imageRequest(b.id, { models: ['other'] }), { priorityOverride: 4 });
      const query = imageQuery({ ownerIds: [a.id, b.id], acceptsAnyModel: false, countSkips: true });
      const page = await h.store.findCandidates(query);
      expect(page.candidates.map((r) => r.id)).toEqual([b1.id, a2.id, a1.id]);
      expect(page.skipped).toEqual({ models: 1 });
      const first = await h.store.findCandidates({ ...query, limit: 2, countSkips: false });
      expect(first.candidates.map((r) => r.id)).toEqual([b1.id, a2.id]);
      expect(first.next).not.toBeNull();
      const second = await h.store.findCandidates({
        ...query,
        limit: 2,
        after: first.next!,
        countSkips: false,
      });
      expect(second.candidates.map((r) => r.id)).toEqual([a1.id]);
      expect(second.next).toBeNull();
      expect(await candidateIds(h.store, imageQuery({ ownerIds: [] }))).toEqual([]);
    });

    it('drops requests that no longer wait and brings back re-queued ones', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const claimed = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 3 });
      const cancelled = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 2 });
      const partly = await enqueue(h.store, imageRequest(a.id, { jobs: 2 }), { priorityOverride: 1 });
      const [job] = await claim(h.store, claimed.id, worker);
      await h.store.cancelRequest(cancelled.id, T0);
      await claim(h.store, partly.id, worker);
      expect(await candidateIds(h.store, imageQuery())).toEqual([partly.id]);
      await fail(h.store, job!.id);
      expect(await candidateIds(h.store, imageQuery())).toEqual([claimed.id, partly.id]);
    });

    it('hands out current records, not the ones from before a job was settled', async () => {
      const a = await createAccount(h.store, { balance: 1000 });
      const worker = await checkIn(h.store, { ownerId: a.id });
      const request = await enqueue(h.store, imageRequest(a.id, { jobs: 2 }));
      const [job] = await claim(h.store, request.id, worker);
      await complete(h.store, job!, { cost: 100, retainUntil: T0 + 90 * MINUTE });
      const [candidate] = (await h.store.findCandidates(imageQuery())).candidates;
      expect(candidate).toEqual(await getRequest(h.store, request.id));
    });
  });

  describe('queuePosition and queueSummary', () => {
    it('ranks waiting requests within their kind, counting the request itself', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const first = await enqueue(h.store, imageRequest(a.id, { jobs: 2 }), { priorityOverride: 9 });
      const text = await enqueue(h.store, textRequest(a.id, { jobs: 3, maxLength: 100 }), {
        priorityOverride: 1,
      });
      const second = await enqueue(h.store, imageRequest(a.id, { jobs: 1, width: 1024 }), {
        priorityOverride: 5,
      });
      const claimed = await enqueue(h.store, imageRequest(a.id), { priorityOverride: 7 });
      await claim(h.store, claimed.id, worker);
      const t1 = first.things;
      expect(await h.store.queuePosition(first.id)).toEqual({
        position: 1,
        jobsAhead: 2,
        thingsAhead: 2 * t1,
      });
      expect(await h.store.queuePosition(second.id)).toEqual({
        position: 2,
        jobsAhead: 3,
        thingsAhead: 2 * t1 + second.things,
      });
      expect(await h.store.queuePosition(text.id)).toEqual({ position: 1, jobsAhead: 3, thingsAhead: 300 });
      expect(await h.store.queuePosition(claimed.id)).toEqual({ position: 0, jobsAhead: 0, thingsAhead: 0 });
      expect(await h.store.queuePosition('f0f0f0f0-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it('sums waiting requests, jobs and things per kind and per requested model', async () => {
      const a = await createAccount(h.store);
      const worker = await checkIn(h.store, { ownerId: a.id });
      const sd = await enqueue(h.store, imageRequest(a.id, { jobs: 2, models: ['stable_diffusion'] }));
      const pair = await enqueue(
        h.store,
        imageRequest(a.id, { jobs: 3, models: ['stable_diffusion', 'other'] }),
      );
      const any = await enqueue(h.store, imageRequest(a.id, { jobs: 1, models: [] }));
      const gone = await enqueue(h.store, imageRequest(a.id, { models: ['gone'] }));
      await claim(h.store, gone.id, worker);
      await claim(h.store, pair.id, worker);
      await enqueue(h.store, textRequest(a.id, { jobs: 4, maxLength: 50 }));
      const t = sd.things;
      const summary = await h.store.queueSummary('image');
      expect({
        ...summary,
        models: [...summary.models].sort((x, y) => x.model.localeCompare(y.model)),
      }).toEqual({
        kind: 'image',
        requests: 3,
        jobs: 5,
        things: 5 * t,
        models: [
          { model: '', requests: 1, jobs: 1, things: t },
          { model: 'other', requests: 1, jobs: 2, things: 2 * t },
          { model: 'stable_diffusion', requests: 2, jobs: 4, things: 4 * t },
        ],
      });
      expect(any.models).toEqual([]);
      expect(await h.store.queueSummary('text')).toEqual({
        kind: 'text',
        requests: 1,
        jobs: 4,
        things: 200,
        models: [{ model: '', requests: 1, jobs: 4, things: 200 }],
      });
    });
  });
}
