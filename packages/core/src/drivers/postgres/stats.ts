/**
 * Generation statistics on PostgreSQL: completed jobs per kind, model and bucket, counted inside the
 * settle's transaction. Same layers and window rules as the SQLite driver (see its generation-stats.ts):
 * minute buckets, hour buckets, one archive row per model. Each bucket is spread over a few shard rows,
 * so settles of one popular model at once do not queue behind one row; reads sum the shards. The
 * leader's expiry sweep folds old minutes into hours and old hours into the archive.
 */
import type { GenerationStats, JobRecord, ModelGenerationCounts, RequestKind } from '../../storage/types.js';
import type { Db } from './tx.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONTH = 30 * DAY;
const SHARDS = 8;

export async function countCompletion(db: Db, job: JobRecord, now: number): Promise<void> {
  await db.query({
    name: 'hk_stats_add',
    text: `INSERT INTO generation_stats (kind, span, start, model, shard, jobs, things) VALUES ($1, $2, $3, $4, $5, 1, $6)
      ON CONFLICT (kind, span, start, model, shard)
      DO UPDATE SET jobs = generation_stats.jobs + 1, things = generation_stats.things + excluded.things`,
    values: [
      job.kind,
      MINUTE,
      Math.floor(now / MINUTE) * MINUTE,
      job.model,
      Math.floor(Math.random() * SHARDS),
      job.things,
    ],
  });
}

/** Minutes that no longer touch the `hour` window go to their hour (or the archive); old hours to the archive. */
export async function foldStats(db: Db, now: number): Promise<void> {
  await db.query(
    `WITH moved AS (
       DELETE FROM generation_stats
       WHERE (span = $1::bigint AND start <= $3::bigint - $2::bigint - $1::bigint)
          OR (span = $2::bigint AND start <= $3::bigint - $4::bigint - $2::bigint)
       RETURNING kind, span, start, model, jobs, things
     ), targets AS (
       SELECT kind, model, jobs, things,
         CASE WHEN span = $1 AND floor(start / $2::double precision) * $2 > $3 - $4 - $2 THEN $2 ELSE 0 END AS span,
         CASE WHEN span = $1 AND floor(start / $2::double precision) * $2 > $3 - $4 - $2
           THEN (floor(start / $2::double precision) * $2)::bigint ELSE 0 END AS start
       FROM moved
     )
     INSERT INTO generation_stats (kind, span, start, model, shard, jobs, things)
     SELECT kind, span, start, model, 0, sum(jobs), sum(things) FROM targets GROUP BY kind, span, start, model
     ON CONFLICT (kind, span, start, model, shard)
     DO UPDATE SET jobs = generation_stats.jobs + excluded.jobs, things = generation_stats.things + excluded.things`,
    [MINUTE, HOUR, now, MONTH],
  );
}

export async function readGenerationStats(db: Db, kind: RequestKind, now: number): Promise<GenerationStats> {
  // A bucket overlaps the window `[now − length, now]` when it starts after `now − length − its span`;
  // minutes count for `day` and `month` by their hour, as if already folded.
  const { rows } = await db.query(
    `SELECT model,
       sum(jobs) FILTER (WHERE span = $2::bigint AND start > $4::bigint - 2 * $2::bigint) AS minute_jobs,
       sum(things) FILTER (WHERE span = $2 AND start > $4 - 2 * $2) AS minute_things,
       sum(jobs) FILTER (WHERE span = $2 AND start > $4 - $3 - $2) AS hour_jobs,
       sum(things) FILTER (WHERE span = $2 AND start > $4 - $3 - $2) AS hour_things,
       sum(jobs) FILTER (WHERE span > 0 AND floor(start / $3::double precision) * $3 > $4 - $5 - $3) AS day_jobs,
       sum(things) FILTER (WHERE span > 0 AND floor(start / $3::double precision) * $3 > $4 - $5 - $3) AS day_things,
       sum(jobs) FILTER (WHERE span > 0 AND floor(start / $3::double precision) * $3 > $4 - $6 - $3) AS month_jobs,
       sum(things) FILTER (WHERE span > 0 AND floor(start / $3::double precision) * $3 > $4 - $6 - $3) AS month_things,
       sum(jobs) AS total_jobs, sum(things) AS total_things
     FROM generation_stats WHERE kind = $1::text AND $3::bigint > 0 AND $5::bigint > 0 AND $6::bigint > 0 GROUP BY model`,
    [kind, MINUTE, HOUR, now, DAY, MONTH],
  );
  const count = (jobs: unknown, things: unknown) => ({
    jobs: Number(jobs ?? 0),
    things: Number(things ?? 0),
  });
  const models: ModelGenerationCounts[] = rows.map((r) => ({
    model: r.model,
    minute: count(r.minute_jobs, r.minute_things),
    hour: count(r.hour_jobs, r.hour_things),
    day: count(r.day_jobs, r.day_things),
    month: count(r.month_jobs, r.month_things),
    total: count(r.total_jobs, r.total_things),
  }));
  models.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return { kind, models };
}
