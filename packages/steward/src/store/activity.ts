import { type Kysely, sql } from "kysely";
import type { VaultSchema } from "./schema.js";

/** What happened in one hour (UTC). */
export interface HourOfActivity {
  /** The hour's start. */
  readonly hour: Date;
  /** Sign-ins completed (`user.signed_in` in the audit log). */
  readonly signIns: number;
  /** Access tokens refreshed and stored (counted as they are written; see credential-batch.ts). */
  readonly refreshes: number;
  /** Refreshes that failed without killing the grant (Google or the network erred). */
  readonly refreshFailures: number;
  /** Credentials revoked, by anyone or found dead (`credential.revoked` in the audit log). */
  readonly revocations: number;
}

/**
 * The last `hours` hours of activity, oldest first, the current (unfinished) hour last, an
 * entry for every hour, zeros included. Buckets are computed in SQL: audited events grouped by
 * the hour of their `at`, refreshes read from their hourly counters.
 *
 * @example
 *   const day = await hourlyActivity(db, 24); // day.at(-1).hour is this hour's start
 */
export async function hourlyActivity(
  db: Kysely<VaultSchema>,
  hours: number,
): Promise<HourOfActivity[]> {
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 31) {
    throw new TypeError("hours is an integer from 1 to 744");
  }
  const { rows } = await sql<{
    hour: Date;
    sign_ins: number;
    refreshes: number;
    refresh_failures: number;
    revocations: number;
  }>`
    WITH hours AS (
      SELECT generate_series(
        date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours - 1}),
        date_trunc('hour', now(), 'UTC'),
        interval '1 hour') AS hour
    ), audited AS (
      SELECT date_trunc('hour', at, 'UTC') AS hour,
        count(*) FILTER (WHERE type = 'user.signed_in') AS sign_ins,
        count(*) FILTER (WHERE type = 'credential.revoked') AS revocations
      FROM audit_events
      WHERE type IN ('user.signed_in', 'credential.revoked') AND at >= (SELECT min(hour) FROM hours)
      GROUP BY 1
    ), counted AS (
      SELECT hour,
        sum(count) FILTER (WHERE kind = 'refreshed') AS refreshes,
        sum(count) FILTER (WHERE kind = 'refresh_failed') AS refresh_failures
      FROM activity_hourly
      WHERE hour >= (SELECT min(hour) FROM hours)
      GROUP BY 1
    )
    SELECT h.hour,
      coalesce(a.sign_ins, 0)::int AS sign_ins,
      coalesce(c.refreshes, 0)::int AS refreshes,
      coalesce(c.refresh_failures, 0)::int AS refresh_failures,
      coalesce(a.revocations, 0)::int AS revocations
    FROM hours AS h
    LEFT JOIN audited AS a ON a.hour = h.hour
    LEFT JOIN counted AS c ON c.hour = h.hour
    ORDER BY h.hour`.execute(db);
  return rows.map((row) => ({
    hour: row.hour,
    signIns: row.sign_ins,
    refreshes: row.refreshes,
    refreshFailures: row.refresh_failures,
    revocations: row.revocations,
  }));
}
