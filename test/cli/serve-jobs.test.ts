// `steward serve --jobs MODULE`: the service process works the jobs the module defines, as
// `steward worker --jobs` does; a module without `define` is refused before anything starts.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  sharedEnvironment,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";

let steward: TestService;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  steward = await startTestService();
  dataDir = await mkdtemp(join(tmpdir(), "steward-serve-jobs-"));
  await sql`CREATE TABLE job_runs (job_id uuid NOT NULL, sub text NOT NULL, pid int NOT NULL)`.execute(
    steward.service.vault.database.db,
  );
}, 120_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await steward?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** `steward serve` from source on the test service's PostgreSQL, keys and emulator. */
async function serve(jobsModule: string) {
  const env = {
    ...process.env,
    ...(await sharedEnvironment(steward)),
    STEWARD_DATA_DIR: dataDir,
    STEWARD_PORT: "0",
    STEWARD_ADMIN_TOKEN: randomBytes(32).toString("hex"),
    STEWARD_LOG_LEVEL: "warn",
  };
  // node itself (tsx as a loader, no npx in between), so SIGTERM reaches the service.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/cli/support/run-cli.ts", "serve", "--jobs", jobsModule],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

it("works the module's jobs in the service's own process", async () => {
  const service = await serve("test/jobs/support/counting-jobs.ts");
  const deadline = Date.now() + 60_000;
  while (!service.output().stdout.includes("Jobs: working the jobs of")) {
    if (service.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`serve did not start: ${JSON.stringify(service.output())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(service.output().stdout).toContain("Steward is listening on http://127.0.0.1:");

  const sub = await signInThroughService(steward, "serve-jobs@example.com", {
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  const ids = await Promise.all(
    [1, 2, 3].map((i) => steward.service.jobs.enqueue("count-run", sub, { i })),
  );
  const runs = async () =>
    (
      await sql<{ job_id: string; pid: number }>`SELECT job_id, pid FROM job_runs`.execute(
        steward.service.vault.database.db,
      )
    ).rows;
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
  const service = await serve("test/cli/support/no-definitions.ts");
  expect(await service.exited).toBe(1);
  expect(service.output().stderr).toContain("exports no define(jobs) function");
  expect(service.output().stdout).not.toContain("Steward is listening");
}, 60_000);
