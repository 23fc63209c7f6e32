import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { REDACTED_PATHS, redactedUrl, requestLogger } from "../../src/server/logger.js";

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const parent = pino({ level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, sink);
  return { parent, lines };
}

describe("requestLogger", () => {
  it("writes the request's lines with its id, redacted, at the parent's level", () => {
    const { parent, lines } = capture("info");
    const log = requestLogger(parent, { reqId: "r-1" }, {});
    log.debug("not written");
    log.info({ body: { code: "4/secret-code" } }, "refused");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: "r-1", msg: "refused", body: { code: "[redacted]" } });
    expect(log.level).toBe("info");
  });

  it("keeps an error's own code, a diagnostic, while a sign-in code anywhere is redacted", () => {
    const { parent, lines } = capture("info");
    const log = requestLogger(parent, { reqId: "r-3" }, {});
    const err = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    log.error({ err, req: { body: { code: "4/secret" } }, app: { serverAuthCode: "4/x" } }, "x");
    expect(lines[0]).toMatchObject({
      err: { code: "ECONNRESET" },
      req: { body: { code: "[redacted]" } },
      app: { serverAuthCode: "[redacted]" },
    });
  });

  it("follows a route's level, and makes no pino child while nothing is written", () => {
    const { parent, lines } = capture("info");
    let children = 0;
    const counted = Object.assign(Object.create(parent), {
      child: (...args: Parameters<typeof parent.child>) => {
        children++;
        return parent.child(...args);
      },
    });
    const log = requestLogger(counted, { reqId: "r-2" }, { level: "warn" });
    log.info("incoming request");
    log.info("request completed");
    expect(children).toBe(0);
    expect(log.level).toBe("warn");
    log.error("request failed");
    log.warn("slow");
    expect(children).toBe(1);
    expect(lines.map((line) => [line.reqId, line.msg])).toEqual([
      ["r-2", "request failed"],
      ["r-2", "slow"],
    ]);
    expect(log.child({ step: "x" }).level).toBe("warn");
  });
});

describe("redactedUrl", () => {
  it("keeps the path and the query's keys, never a value", () => {
    expect(redactedUrl("/v1/users")).toBe("/v1/users");
    expect(redactedUrl("/tokeninfo?access_token=ya29.x&alt=json")).toBe(
      "/tokeninfo?access_token=[redacted]&alt=[redacted]",
    );
    expect(redactedUrl("/cb?code=4%2F0Ab&")).toBe("/cb?code=[redacted]&[redacted]");
  });

  it("redacts a part without `=`, and a key that does not look like one, whole", () => {
    expect(redactedUrl("/x?ya29.bare-token")).toBe("/x?[redacted]");
    expect(redactedUrl("/x?4/0Ab-code=1&a=2")).toBe("/x?[redacted]&a=[redacted]");
    expect(redactedUrl(`/x?${"k".repeat(65)}=1`)).toBe("/x?[redacted]");
  });
});
