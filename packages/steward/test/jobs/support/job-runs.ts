// The `job_runs` table that test/jobs/support/counting-jobs.ts writes one row to per run. It has
// no unique key, so a job run twice shows as two rows.
import { type Kysely, sql } from "kysely";
import type { VaultSchema } from "../../../src/store/index.js";

export async function createJobRunsTable(db: Kysely<VaultSchema>): Promise<void> {
  await sql`CREATE TABLE job_runs (job_id uuid NOT NULL, sub text NOT NULL, pid int NOT NULL)`.execute(
    db,
  );
}

export async function jobRuns(db: Kysely<VaultSchema>): Promise<{ job_id: string; pid: number }[]> {
  return (await sql<{ job_id: string; pid: number }>`SELECT job_id, pid FROM job_runs`.execute(db))
    .rows;
}
