/**
 * The few reads and writes Steward makes on pg-boss's own tables (`job`, `archive`), beside its
 * API: pg-boss 10 has no lookup by id alone, no listing by user, and no way to fail a job for
 * good before its retries are spent. Columns used here are those of pg-boss 10's schema.
 */
import { storedError } from "./failure.js";
import type { JobState, JobStatus } from "./types.js";

/** Runs one SQL text, as pg's `query` does. */
export type Sql = (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>;

interface JobRow {
  id: string;
  name: string;
  sub: string;
  state: JobState;
  created_on: Date;
  completed_on: Date | null;
  output: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMNS = "id, name, data->>'sub' AS sub, state, created_on, completed_on, output";

/** The job with this id, live or archived. */
export async function findJob(
  sql: Sql,
  schema: string,
  id: string,
): Promise<JobStatus | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await sql(
    `SELECT ${COLUMNS} FROM ${schema}.job WHERE id = $1 AND data ? 'sub'
     UNION ALL
     SELECT ${COLUMNS} FROM ${schema}.archive WHERE id = $1 AND data ? 'sub'
     LIMIT 1`,
    [id],
  );
  return rows[0] === undefined ? undefined : toStatus(rows[0] as JobRow);
}

/** Steward's jobs (those carrying a `sub`), newest first. */
export async function listJobs(
  sql: Sql,
  schema: string,
  options: { sub?: string | undefined; limit: number },
): Promise<JobStatus[]> {
  const where = "data ? 'sub' AND ($1::text IS NULL OR data->>'sub' = $1)";
  const { rows } = await sql(
    `SELECT * FROM (
       SELECT ${COLUMNS} FROM ${schema}.job WHERE ${where}
       UNION ALL
       SELECT ${COLUMNS} FROM ${schema}.archive WHERE ${where}
     ) jobs ORDER BY created_on DESC, id LIMIT $2`,
    [options.sub ?? null, options.limit],
  );
  return (rows as JobRow[]).map(toStatus);
}

/**
 * Spends the retries of an active job, so that the failure pg-boss records next is final:
 * pg-boss retries while `retry_count < retry_limit`, and offers no non-retryable error.
 */
export async function spendRetries(
  sql: Sql,
  schema: string,
  name: string,
  id: string,
): Promise<void> {
  await sql(
    `UPDATE ${schema}.job SET retry_limit = retry_count
     WHERE name = $1 AND id = $2 AND state = 'active'`,
    [name, id],
  );
}

/** A job of `name` with this singleton key that is still waiting, retrying or running. */
export async function pendingWithKey(
  sql: Sql,
  schema: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  const { rows } = await sql(
    `SELECT id FROM ${schema}.job
     WHERE name = $1 AND singleton_key = $2 AND state < 'completed'
     ORDER BY created_on LIMIT 1`,
    [name, key],
  );
  return (rows[0] as { id: string } | undefined)?.id;
}

function toStatus(row: JobRow): JobStatus {
  const failed = row.state === "retry" || row.state === "failed";
  return {
    id: row.id,
    name: row.name,
    sub: row.sub,
    state: row.state,
    createdAt: row.created_on,
    completedAt: row.completed_on,
    output:
      row.state === "completed"
        ? ((row.output as { output?: unknown } | null)?.output ?? null)
        : null,
    error: failed ? storedError(row.output) : null,
  };
}
