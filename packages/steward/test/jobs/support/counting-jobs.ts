// Job definitions for the multi-process job tests, loaded by `steward worker --jobs` or
// `steward serve --jobs` in each process: each run reads the user's Drive (so it needs a token)
// and records itself in `job_runs` (see job-runs.ts).
import pg from "pg";
import type { Jobs } from "../../../src/jobs/index.js";

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: 4,
  idleTimeoutMillis: 100,
  allowExitOnIdle: true,
});

export async function define(jobs: Jobs): Promise<void> {
  await jobs.define(
    "count-run",
    async ({ jobId, sub, google, signal }) => {
      const response = await google.fetch(
        "https://www.googleapis.com/drive/v3/files?spaces=appDataFolder&fields=files(id)",
      );
      if (!response.ok) throw new Error(`Drive answered ${response.status}`);
      // Long enough that one process alone could not drain the queue before the other polls.
      await new Promise((resolve) => setTimeout(resolve, 100));
      signal.throwIfAborted();
      await pool.query("INSERT INTO job_runs (job_id, sub, pid) VALUES ($1, $2, $3)", [
        jobId,
        sub,
        process.pid,
      ]);
      return { pid: process.pid };
    },
    { retryLimit: 2, retryDelaySeconds: 1 },
  );
}
