/**
 * The queue on PostgreSQL: candidate scans, positions and summaries over waiting requests (`state =
 * 'active' AND waiting > 0`), in pop order — `sort_key` descending, then `seq` — on the partial index
 * `requests_queue`. The indexable filters (models, sizes, capabilities, owners) are WHERE clauses; skip
 * counts group the waiting requests by their requirements and ask `groupRejection`, the same function the
 * in-memory index uses, why each group is refused.
 */
import { groupRejection, type RequirementGroup } from '../../scheduler/queue-index.js';
import type {
  CandidatePage,
  CandidateQuery,
  QueuePosition,
  QueueSummary,
  RequestKind,
  SkipCounts,
} from '../../storage/types.js';
import { requestFromRow } from './rows.js';
import type { Db } from './tx.js';

/**
 * The waiting requests grouped by requirements, per kind (and owner restriction), kept for a second:
 * an idle worker's pop asks for skip counts every second, and the groups change slowly, while grouping a
 * long queue costs a scan. Skip counts are informational (the pop response's `skipped`), so a second's
 * staleness is harmless.
 */
export class SkipGroups {
  private cache = new Map<string, { at: number; groups: Promise<RequirementRow[]> }>();
  constructor(private readonly maxAgeMs = 1000) {}

  get(db: Db, query: CandidateQuery): Promise<RequirementRow[]> {
    const key = `${query.kind}:${query.ownerIds?.join(',') ?? '*'}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && now - cached.at < this.maxAgeMs) return cached.groups;
    if (this.cache.size > 1000) this.cache.clear();
    const groups = readGroups(db, query);
    this.cache.set(key, { at: now, groups });
    groups.catch(() => this.cache.delete(key));
    return groups;
  }
}

interface RequirementRow {
  group: RequirementGroup;
  requests: number;
}

export async function findCandidates(
  db: Db,
  query: CandidateQuery,
  skipGroups: SkipGroups,
): Promise<CandidatePage> {
  const image = query.kind === 'image';
  const { rows } = await db.query({
    name: 'hk_candidates',
    text: `SELECT * FROM requests
      WHERE kind = $1 AND state = 'active' AND waiting > 0
        AND (models && $2::text[] OR ($3 AND cardinality(models) = 0))
        AND pixels <= $4 AND max_length <= $5 AND max_context_length <= $6
        AND needs & ~$7::integer = 0
        AND ($8::bigint[] IS NULL OR account_id = ANY($8::bigint[]))
        AND ($9::double precision IS NULL OR sort_key < $9 OR (sort_key = $9 AND seq > $10))
      ORDER BY sort_key DESC, seq
      LIMIT $11`,
    values: [
      query.kind,
      query.models,
      query.acceptsAnyModel,
      image ? query.maxPixels : Number.MAX_SAFE_INTEGER,
      image ? 2 ** 31 - 1 : query.maxLength,
      image ? 2 ** 31 - 1 : query.maxContextLength,
      query.offers,
      query.ownerIds ?? null,
      query.after?.sortKey ?? null,
      query.after?.seq ?? 0,
      query.limit + 1,
    ],
  });
  const more = rows.length > query.limit;
  const candidates = rows.slice(0, query.limit).map(requestFromRow);
  const last = candidates.at(-1);
  return {
    candidates,
    next: more && last ? { sortKey: last.sortKey, seq: last.seq } : null,
    skipped: query.countSkips ? countSkips(await skipGroups.get(db, query), query) : {},
  };
}

async function readGroups(db: Db, query: CandidateQuery): Promise<RequirementRow[]> {
  const { rows } = await db.query({
    name: 'hk_skip_groups',
    text: `SELECT models, needs, pixels, max_length, max_context_length, count(*)::integer AS requests
      FROM requests
      WHERE kind = $1 AND state = 'active' AND waiting > 0
        AND ($2::bigint[] IS NULL OR account_id = ANY($2::bigint[]))
      GROUP BY models, needs, pixels, max_length, max_context_length`,
    values: [query.kind, query.ownerIds ?? null],
  });
  return rows.map((row) => ({
    group: {
      models: row.models,
      needs: row.needs,
      pixels: row.pixels,
      maxLength: row.max_length,
      maxContextLength: row.max_context_length,
    },
    requests: row.requests,
  }));
}

function countSkips(groups: RequirementRow[], query: CandidateQuery): SkipCounts {
  const workerModels = new Set(query.models);
  const skipped: SkipCounts = {};
  for (const { group, requests } of groups) {
    const reason = groupRejection(group, query, workerModels);
    if (reason !== null) skipped[reason] = (skipped[reason] ?? 0) + requests;
  }
  return skipped;
}

export async function queuePosition(db: Db, requestId: string): Promise<QueuePosition | undefined> {
  const { rows } = await db.query({
    name: 'hk_position',
    text: `SELECT r.state, r.waiting, p.position, p.jobs, p.things
      FROM requests r LEFT JOIN LATERAL (
        SELECT count(*)::integer AS position, sum(q.waiting)::bigint AS jobs, sum(q.things * q.waiting) AS things
        FROM requests q
        WHERE q.kind = r.kind AND q.state = 'active' AND q.waiting > 0
          AND (q.sort_key > r.sort_key OR (q.sort_key = r.sort_key AND q.seq <= r.seq))
      ) p ON r.state = 'active' AND r.waiting > 0
      WHERE r.id = $1`,
    values: [requestId],
  });
  const row = rows[0];
  if (!row || row.state === 'expired') return undefined;
  if (row.state !== 'active' || row.waiting === 0) return { position: 0, thingsAhead: 0, jobsAhead: 0 };
  return { position: row.position, jobsAhead: Number(row.jobs), thingsAhead: Number(row.things) };
}

export async function queueSummary(db: Db, kind: RequestKind): Promise<QueueSummary> {
  // One round trip: the totals (model NULL) and one row per requested model ("" is any model).
  const { rows } = await db.query({
    name: 'hk_summary',
    text: `SELECT NULL::text AS model, count(*)::integer AS requests, coalesce(sum(waiting), 0)::bigint AS jobs,
        coalesce(sum(things * waiting), 0) AS things
      FROM requests WHERE kind = $1 AND state = 'active' AND waiting > 0
      UNION ALL
      SELECT m.model, count(*)::integer, sum(r.waiting)::bigint, sum(r.things * r.waiting)
      FROM requests r
      CROSS JOIN LATERAL (
        SELECT DISTINCT model FROM unnest(CASE WHEN cardinality(r.models) = 0 THEN ARRAY[''] ELSE r.models END) AS model
      ) m
      WHERE r.kind = $1 AND r.state = 'active' AND r.waiting > 0
      GROUP BY m.model`,
    values: [kind],
  });
  const total = rows.find((r) => r.model === null)!;
  const models = rows
    .filter((r) => r.model !== null)
    .map((r) => ({
      model: r.model as string,
      requests: r.requests,
      jobs: Number(r.jobs),
      things: Number(r.things),
    }))
    .sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return { kind, requests: total.requests, jobs: Number(total.jobs), things: Number(total.things), models };
}
