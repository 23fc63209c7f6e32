import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type CliProcess, killRunningClis, startCli } from "../cli/support/cli-process.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import {
  postCode,
  sharedEnvironment,
  startTestService,
  type TestService,
} from "../server/helpers.js";
import { createJobRunsTable, jobRuns } from "./support/job-runs.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const USERS = 20;
const JOBS = 100;

let steward: TestService;
let workerDataDir: string;
let workers: CliProcess[] = [];

beforeAll(async () => {
  steward = await startTestService();
  workerDataDir = await mkdtemp(join(tmpdir(), "steward-worker-"));
  await createJobRunsTable(steward.service.vault.database.db);
  // Loading the CLI from source takes seconds: the workers start while the users sign in.
  workers = [await startWorker(), await startWorker()];
}, 120_000);
afterAll(async () => {
  killRunningClis();
  await steward?.close();
  await rm(workerDataDir, { recursive: true, force: true });
});

/** `steward worker` from source, on the service's PostgreSQL, keys and (external) emulator. */
async function startWorker(): Promise<CliProcess> {
  const args = [
    "worker",
    "--jobs",
    "packages/steward/test/jobs/support/counting-jobs.ts",
    "--concurrency",
    "8",
  ];
  return startCli(args, {
    ...process.env,
    ...(await sharedEnvironment(steward)),
    STEWARD_DATA_DIR: workerDataDir,
    STEWARD_LOG_LEVEL: "warn",
  });
}

it("two worker processes complete 100 jobs for 20 users exactly once each, refreshing each user's expired token once", async () => {
  // 20 users whose access tokens are dead by the time the jobs run.
  await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 1 });
  const subs: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const { serverAuthCode, sub } = await sdkSignIn(steward.google, {
      email: `worker-user-${i}@example.com`,
      scopes: [APPDATA],
    });
    expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
    subs.push(sub);
  }
  await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
  await Promise.all(workers.map((worker) => worker.printed("is working the jobs")));
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the last sign-in's token is dead
  await control(steward.google, "DELETE", "/emulator/stats");

  const jobs = steward.service.jobs;
  const ids = await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      jobs.enqueue("count-run", subs[i % USERS] as string, { i }),
    ),
  );
  expect(new Set(ids).size).toBe(JOBS);
  const deadline = Date.now() + 30_000;
  let completed = 0;
  while (completed < JOBS && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const listed = await jobs.list({ limit: 1000 });
    completed = listed.filter((job) => ids.includes(job.id) && job.state === "completed").length;
  }
  for (const { child } of workers) child.kill("SIGTERM");
  expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);

  // Every job completed, and ran exactly once.
  const statuses = await Promise.all(ids.map((id) => jobs.status(id)));
  expect(statuses.map((job) => job?.state)).toEqual(ids.map(() => "completed"));
  const rows = await jobRuns(steward.service.vault.database.db);
  expect(rows.map((row) => row.job_id).sort()).toEqual([...ids].sort());
  // Both processes did work.
  expect(new Set(rows.map((row) => row.pid)).size).toBe(2);
  // One refresh per user for the one expiry, though both processes needed each user's token.
  const stats = (await control(steward.google, "GET", "/emulator/stats")).body;
  expect(subs.map((sub) => stats.grantsBySub[sub]?.refresh_token ?? 0)).toEqual(subs.map(() => 1));
  // Each job's token was audited once.
  const issued = (await steward.service.vault.store.listAuditEvents({ limit: 1000 })).filter(
    (event) => event.type === "job.token_issued",
  );
  expect(issued.map((event) => event.data.jobId).sort()).toEqual([...ids].sort());
}, 60_000);
