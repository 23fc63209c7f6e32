import { describe, expect, it } from "vitest";
import { StewardError } from "../../src/errors.js";
import { classifyFailure, JobInterrupted, storedError } from "../../src/jobs/failure.js";
import { jobsLogger } from "../../src/jobs/logger.js";

describe("job failures", () => {
  it("keeps a StewardError's code and public message, never its detail; only dead grants are permanent", () => {
    const revoked = new StewardError("credential_revoked", { detail: "sub 1: invalid_grant" });
    expect(classifyFailure(revoked)).toEqual({
      code: "credential_revoked",
      message: revoked.message,
      permanent: true,
    });
    expect(classifyFailure(new StewardError("upstream_unavailable"))).toMatchObject({
      code: "upstream_unavailable",
      permanent: false,
    });
    expect(classifyFailure(new TypeError("oops"))).toEqual({
      code: "job_failed",
      message: "oops",
      permanent: false,
    });
    expect(classifyFailure(new JobInterrupted("job_timeout")).code).toBe("job_timeout");
    expect(classifyFailure(new Error("x".repeat(2000))).message.length).toBeLessThan(510);
  });

  it("reads back what pg-boss stored, its own failures included", () => {
    expect(storedError({ code: "scope_not_granted", message: "m" })).toEqual({
      code: "scope_not_granted",
      message: "m",
    });
    expect(storedError({ value: "pg-boss shut down while active" })).toEqual({
      code: "worker_stopped",
      message: "pg-boss shut down while active",
    });
    expect(storedError({ value: { message: "job failed by timeout in active state" } })).toEqual({
      code: "job_expired",
      message: "job failed by timeout in active state",
    });
    expect(storedError({ name: "Error", stack: "Error: at x.ts:1" })).toEqual({
      code: "job_failed",
      message: "The job failed.",
    });
  });
});

describe("jobsLogger", () => {
  it("hands a plain logger pino's entries, bindings included, by level", () => {
    const seen: Array<[string, object, string]> = [];
    const plain = {
      debug: (fields: object, message: string) => seen.push(["debug", fields, message]),
      info: (fields: object, message: string) => seen.push(["info", fields, message]),
      warn: (fields: object, message: string) => seen.push(["warn", fields, message]),
      error: (fields: object, message: string) => seen.push(["error", fields, message]),
    };
    const log = jobsLogger(plain).child({ jobId: "j1" });
    log.warn({ code: "job_failed" }, "job attempt failed");
    expect(seen).toEqual([["warn", { jobId: "j1", code: "job_failed" }, "job attempt failed"]]);
  });
});
