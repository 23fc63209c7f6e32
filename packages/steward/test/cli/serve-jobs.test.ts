// `steward serve --jobs MODULE`: the service process works the jobs the module defines, as
// `steward worker --jobs` does; a module without `define` is refused before anything starts.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createJobRunsTable, jobRuns } from "../jobs/support/job-runs.js";
import {
  sharedEnvironment,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";
import { killRunningClis, startCli } from "./support/cli-process.js";

let steward: TestService;
let dataDir: string;

beforeAll(async () => {
  steward = await startTestService();
  dataDir = await mkdtemp(join(tmpdir(), "steward-serve-jobs-"));
  await createJobRunsTable(steward.service.vault.database.db);
}, 120_000);
afterAll(async () => {
  killRunningClis();
  await steward?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** `steward serve` from source on the test service's PostgreSQL, keys and emulator. */
async function serve(jobsModule: string) {
  return startCli(["serve", "--jobs", jobsModule], {
    ...process.env,
    ...(await sharedEnvironment(steward)),
    STEWARD_DATA_DIR: dataDir,
    STEWARD_PORT: "0",
    STEWARD_ADMIN_TOKEN: randomBytes(32).toString("hex"),
    STEWARD_LOG_LEVEL: "warn",
  });
}

it("works the module's jobs in the service's own process", async () => {
  const service = await serve("packages/steward/test/jobs/support/counting-jobs.ts");
  await service.printed("Jobs: working the jobs of");
  expect(service.output().stdout).toContain("Steward is listening on http://127.0.0.1:");

  const sub = await signInThroughService(steward, "serve-jobs@example.com", {
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  const ids = await Promise.all(
    [1, 2, 3].map((i) => steward.service.jobs.enqueue("count-run", sub, { i })),
  );
  const runs = () => jobRuns(steward.service.vault.database.db);
  const deadline = Date.now() + 60_000;
  while ((await runs()).length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const done = await runs();
  expect(done.map((run) => run.job_id).toSorted()).toEqual(ids.toSorted());
  expect(new Set(done.map((run) => run.pid))).toEqual(new Set([service.child.pid]));

  service.child.kill("SIGTERM");
  expect(await service.exited).toBe(0);
}, 90_000);

it("refuses a module without define(jobs), before starting anything", async () => {
  const service = await serve("packages/steward/test/cli/support/no-definitions.ts");
  expect(await service.exited).toBe(1);
  expect(service.output().stderr).toContain("exports no define(jobs) function");
  expect(service.output().stdout).not.toContain("Steward is listening");
}, 60_000);
