import { describe, expect, it } from "vitest";
import { DemoSessions, SESSION_COOKIE } from "../src/session.js";

const header = (setCookie: string) => setCookie.split(";")[0];

describe("DemoSessions", () => {
  it("round-trips a sub, including one that is not digits, until it expires after 8 hours", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const sessions = new DemoSessions(() => now);
    const cookie = header(sessions.issue("user|with.dots=and;semicolons", true));
    expect(sessions.verify(`other=1; ${cookie}; more=2`)).toBe("user|with.dots=and;semicolons");
    now += 8 * 60 * 60 * 1000 - 1000;
    expect(sessions.verify(cookie)).toBeDefined();
    now += 1000;
    expect(sessions.verify(cookie)).toBeUndefined();
  });

  it("sets the cookie httpOnly, SameSite=Strict, on /demo only, Secure over HTTPS; clears it", () => {
    const sessions = new DemoSessions();
    expect(sessions.issue("1", true)).toMatch(
      new RegExp(
        `^${SESSION_COOKIE}=[^;]+; Path=/demo; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$`,
      ),
    );
    expect(sessions.issue("1", false)).not.toContain("Secure");
    expect(sessions.clear(false)).toBe(
      `${SESSION_COOKIE}=; Path=/demo; Max-Age=0; HttpOnly; SameSite=Strict`,
    );
  });

  it("ends every session of a user who signs out, a copied cookie's too, and no one else's", () => {
    const sessions = new DemoSessions();
    const [laptop, copied, other] = [
      header(sessions.issue("1", true)),
      header(sessions.issue("1", true)),
      header(sessions.issue("2", true)),
    ];
    sessions.endAll("1");
    expect([sessions.verify(laptop), sessions.verify(copied)]).toEqual([undefined, undefined]);
    expect(sessions.verify(other)).toBe("2");
    expect(sessions.verify(header(sessions.issue("1", true)))).toBe("1");
  });

  it("refuses what it did not sign", () => {
    const sessions = new DemoSessions();
    for (const cookie of [
      undefined,
      "",
      `${SESSION_COOKIE}=`,
      `${SESSION_COOKIE}=a.b`,
      `${SESSION_COOKIE}=a.1.c.d`,
      `${SESSION_COOKIE}=a.1.0.d.e`,
      `${SESSION_COOKIE}=MQ.99999999999.x`,
    ]) {
      expect(sessions.verify(cookie)).toBeUndefined();
    }
  });
});
