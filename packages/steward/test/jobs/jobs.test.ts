import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/jobs/index.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "../server/helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const PHOTOS = "https://www.googleapis.com/auth/photoslibrary.appendonly";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService();
}, 120_000);
afterAll(() => steward?.close());
beforeEach(async () => {
  await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
});

/**
 * A user who signed in (the request is over) with a 1 s access token: too short for any job, so
 * the first token a job asks for is a refresh; `waitForExpiry` also lets it die first.
 */
async function userWithShortToken(email: string, waitForExpiry = false): Promise<string> {
  await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 1 });
  const { serverAuthCode, sub } = await sdkSignIn(steward.google, { email, scopes: [APPDATA] });
  expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
  await control(steward.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
  if (waitForExpiry) await new Promise((resolve) => setTimeout(resolve, 1100));
  return sub;
}

const refreshesOf = async (sub: string): Promise<number> =>
  (await control(steward.google, "GET", "/emulator/stats")).body.grantsBySub[sub]?.refresh_token ??
  0;

/** Polls the job until `done` says so (a terminal state by default). */
async function waitFor(
  id: string,
  done: (job: JobStatus) => boolean = (job) => job.state === "completed" || job.state === "failed",
  timeoutMs = 20_000,
): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await steward.service.jobs.status(id);
    if (job && done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job?.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What pg-boss stored for the job, as JSON text: data and output. */
async function storedRow(id: string): Promise<string> {
  const { rows } = await sql<{ row: string }>`
    SELECT row_to_json(j)::text AS row FROM pgboss.job j WHERE id = ${id}::uuid
  `.execute(steward.service.vault.database.db);
  return rows[0]?.row ?? "";
}

function multipart(metadata: object, content: string): { body: string; type: string } {
  const boundary = "steward-job-boundary";
  return {
    type: `multipart/related; boundary=${boundary}`,
    body: [
      `--${boundary}`,
      "Content-Type: application/json; charset=UTF-8",
      "",
      JSON.stringify(metadata),
      `--${boundary}`,
      "Content-Type: text/plain",
      "",
      content,
      `--${boundary}--`,
    ].join("\r\n"),
  };
}

describe("jobs in the service process", () => {
  it("a job writes and reads Drive appDataFolder for a user long after the sign-in request", async () => {
    const sub = await userWithShortToken("drive-job@example.com", true);
    await steward.service.jobs.define<{ note: string }>(
      "save-note",
      async ({ google, data, signal }) => {
        const upload = multipart({ name: "note.txt", parents: ["appDataFolder"] }, data.note);
        const created = await google.fetch(
          "https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart&fields=id",
          { method: "POST", headers: { "content-type": upload.type }, body: upload.body },
        );
        if (!created.ok) throw new Error(`create answered ${created.status}`);
        const { id } = (await created.json()) as { id: string };
        const content = await google.fetch(
          `https://www.googleapis.com/drive/v3/files/${id}?alt=media`,
          { signal },
        );
        const listed = await google.fetch(
          "https://www.googleapis.com/drive/v3/files?spaces=appDataFolder&fields=files(id,name)",
        );
        return { id, content: await content.text(), files: (await listed.json()).files };
      },
      { scopes: [APPDATA] },
    );
    const jobId = await steward.service.jobs.enqueue("save-note", sub, { note: "remember me" });

    const job = await waitFor(jobId);
    expect(job).toMatchObject({
      id: jobId,
      name: "save-note",
      sub,
      state: "completed",
      error: null,
    });
    const output = job.output as { id: string; content: string; files: unknown[] };
    expect(output.content).toBe("remember me");
    expect(output.files).toEqual([{ id: output.id, name: "note.txt" }]);
    expect(await refreshesOf(sub)).toBe(1);
    // The file is really in the user's folder: read it as the app's backend would.
    const response = await steward.service.tokens.accessToken(sub).then(({ token }) =>
      fetch(`${steward.google.url}/drive/v3/files?spaces=appDataFolder&fields=files(name)`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect((await response.json()).files).toEqual([{ name: "note.txt" }]);
    expect(await steward.service.jobs.list({ sub })).toEqual([job]);
  });

  it("records every token handed to a job in the audit log, never the token", async () => {
    const sub = await userWithShortToken("audited-job@example.com");
    await steward.service.jobs.define("peek", async ({ google }) => {
      await google.accessToken();
      const response = await google.fetch("https://www.googleapis.com/drive/v3/files");
      return { status: response.status };
    });
    const first = await steward.service.jobs.enqueue("peek", sub, {});
    const second = await steward.service.jobs.enqueue("peek", sub, {});
    await waitFor(first);
    await waitFor(second);

    const events = await steward.service.vault.store.listAuditEvents({ sub });
    const issued = events.filter((event) => event.type === "job.token_issued");
    // One per attempt, though each attempt asked for a token twice.
    expect(issued.map((event) => event.data.jobId).sort()).toEqual([first, second].sort());
    for (const event of issued) {
      expect(event).toMatchObject({ sub, actor: "job:peek" });
      expect(event.data).toEqual({
        jobId: event.data.jobId,
        job: "peek",
        scopes: expect.arrayContaining([APPDATA]),
        attempt: 1,
      });
    }
    const { token } = await steward.service.tokens.accessToken(sub);
    const grants = (await control(steward.google, "GET", `/emulator/users/${sub}/grants`)).body;
    const refreshToken = grants.grants[0].refreshTokens[0].token as string;
    const everything = [
      JSON.stringify(events),
      await storedRow(first),
      await storedRow(second),
      steward.logs(),
    ].join("\n");
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(refreshToken);
  });

  it("retries a transient failure with exponential backoff, then completes", async () => {
    const sub = await userWithShortToken("flaky-job@example.com");
    const startedAt: number[] = [];
    await steward.service.jobs.define(
      "flaky",
      async () => {
        startedAt.push(Date.now());
        if (startedAt.length < 3) throw new Error(`flaky: try again (${startedAt.length})`);
        return { attempts: startedAt.length };
      },
      { retryLimit: 3, retryDelaySeconds: 1 },
    );
    const id = await steward.service.jobs.enqueue("flaky", sub, {});

    const retrying = await waitFor(id, (job) => job.state === "retry");
    expect(retrying.error).toEqual({ code: "job_failed", message: "flaky: try again (1)" });
    expect(await storedRow(id)).not.toMatch(/stack|at runAttempt|\.ts:/);
    const job = await waitFor(id);
    expect(job).toMatchObject({ state: "completed", output: { attempts: 3 }, error: null });
    const [a, b, c] = startedAt as [number, number, number];
    // pg-boss waits retryDelay·2^(n-1) to retryDelay·2^n seconds before the n-th retry.
    expect(b - a).toBeGreaterThanOrEqual(900);
    expect(c - b).toBeGreaterThanOrEqual(1900);
  });

  it("stops a job queued under an older, shorter expiry before pg-boss gives it up", async () => {
    const sub = await userWithShortToken("older-definition@example.com");
    let aborted = 0;
    await steward.service.jobs.define(
      "outlived",
      ({ signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => {
            aborted++;
            reject(signal.reason);
          }),
        ),
      { retryLimit: 0, timeoutSeconds: 3600 },
    );
    const id = await steward.service.jobs.enqueue("outlived", sub, {}, { startAfterSeconds: 1 });
    // As queued by a deployment whose timeout was 2 s: pg-boss copied its expiry into the row.
    await sql`UPDATE pgboss.job SET expire_in = interval '62 seconds' WHERE id = ${id}::uuid`.execute(
      steward.service.vault.database.db,
    );
    expect(await waitFor(id)).toMatchObject({ state: "failed", error: { code: "job_timeout" } });
    expect(aborted).toBe(1);
  });

  it("fails a revoked user's job at once with credential_revoked, attempted once, never retried", async () => {
    const sub = await userWithShortToken("revoked-job@example.com");
    await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});
    const calls: string[] = [];
    await steward.service.jobs.define(
      "doomed",
      async ({ jobId, google }) => {
        calls.push(jobId);
        try {
          await google.fetch("https://www.googleapis.com/drive/v3/files?spaces=appDataFolder");
        } catch (error) {
          // Even wrapped, the dead grant decides.
          throw new Error(`could not list: ${(error as Error).message}`);
        }
      },
      { retryLimit: 3, retryDelaySeconds: 1 },
    );
    // Revoked at Google: found out on refresh, inside the handler.
    const first = await steward.service.jobs.enqueue("doomed", sub, {});
    const failed = await waitFor(first);
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatchObject({ code: "credential_revoked" });
    expect(await storedRow(first)).toMatch(/"retry_count":0,/);
    // Now marked revoked here: the next job fails before its handler runs.
    const second = await steward.service.jobs.enqueue("doomed", sub, {});
    expect(await waitFor(second)).toMatchObject({
      state: "failed",
      error: { code: "credential_revoked" },
    });
    // A retry would have come within 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(calls).toEqual([first]);
    expect((await steward.service.jobs.status(first))?.state).toBe("failed");
  });

  it("retries a job that did without an optional scope the user did not grant, then failed for a passing reason", async () => {
    const sub = await userWithShortToken("optional-scope@example.com");
    let attempts = 0;
    await steward.service.jobs.define(
      "optional-photos",
      async ({ google }) => {
        attempts++;
        const photos = await google.accessToken([PHOTOS]).catch(() => undefined);
        if (attempts === 1) throw new Error("a passing fault");
        return { withPhotos: photos !== undefined };
      },
      { retryLimit: 2, retryDelaySeconds: 1 },
    );
    const id = await steward.service.jobs.enqueue("optional-photos", sub, {});
    expect(await waitFor(id)).toMatchObject({
      state: "completed",
      output: { withPhotos: false },
    });
    expect(attempts).toBe(2);
  });

  it("fails at once a job needing a scope the user did not grant, or for an unknown user", async () => {
    const sub = await userWithShortToken("narrow-job@example.com");
    let ran = 0;
    await steward.service.jobs.define(
      "photos",
      async () => {
        ran++;
      },
      { scopes: [PHOTOS], retryDelaySeconds: 1 },
    );
    const narrow = await steward.service.jobs.enqueue("photos", sub, {});
    const stranger = await steward.service.jobs.enqueue("photos", "404404404", {});
    expect(await waitFor(narrow)).toMatchObject({
      state: "failed",
      error: { code: "scope_not_granted", message: `The user did not grant: ${PHOTOS}` },
    });
    expect(await waitFor(stranger)).toMatchObject({
      state: "failed",
      error: { code: "user_not_found" },
    });
    expect(ran).toBe(0);
    expect(await storedRow(narrow)).toMatch(/"retry_count":0,/);
    expect(await storedRow(stranger)).toMatch(/"retry_count":0,/);
    expect(await refreshesOf(sub)).toBe(0);
  });

  it("aborts an attempt past its timeout through its signal", async () => {
    const sub = await userWithShortToken("slow-job@example.com");
    let sawAbort = false;
    await steward.service.jobs.define(
      "slow",
      ({ signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(signal.reason);
          }),
        ),
      { timeoutSeconds: 1, retryLimit: 0 },
    );
    const id = await steward.service.jobs.enqueue("slow", sub, {});
    expect(await waitFor(id)).toMatchObject({
      state: "failed",
      error: { code: "job_timeout", message: "The job ran past its timeout." },
    });
    expect(sawAbort).toBe(true);
  });

  it("keeps one pending job per singleton key", async () => {
    const sub = await userWithShortToken("singleton-job@example.com");
    const jobs = steward.service.jobs;
    const options = { singletonKey: `sync-${sub}`, startAfterSeconds: 30 };
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => jobs.enqueue("later", sub, {}, options)),
    );
    expect(new Set(ids).size).toBe(1);
    expect(await jobs.status(ids[0] as string)).toMatchObject({ state: "created", sub });
    expect(await jobs.enqueue("later", sub, {}, { startAfterSeconds: 30 })).not.toBe(ids[0]);
  });

  it("refuses misuse with TypeErrors", async () => {
    const jobs = steward.service.jobs;
    await expect(jobs.define("bad name!", async () => undefined)).rejects.toThrow(TypeError);
    await expect(
      jobs.define("ok-name", async () => undefined, { retryDelaySeconds: 0.5 }),
    ).rejects.toThrow(/retryDelaySeconds/);
    await expect(jobs.enqueue("ok-name", "", {})).rejects.toThrow(/sub/);
    expect(await jobs.status("not-a-uuid")).toBeUndefined();
    await expect(jobs.list({ limit: 0 })).rejects.toThrow(/limit/);
  });
});
