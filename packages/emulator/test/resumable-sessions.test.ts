import { describe, expect, it } from "vitest";
import { ResumableSessions } from "../src/resumable-sessions.js";
import { parseContentRange } from "../src/resumable-upload.js";

describe("ResumableSessions", () => {
  it("drops the least recently used session when full", () => {
    const sessions = new ResumableSessions<string>(Date.now, { maxSessions: 2 });
    const a = sessions.open("a");
    const b = sessions.open("b");
    expect(sessions.get(a.id)).toBe(a); // a is now the most recently used
    const c = sessions.open("c");
    expect(sessions.get(b.id)).toBeUndefined();
    expect(sessions.get(a.id)).toBe(a);
    expect(sessions.get(c.id)).toBe(c);
  });

  it("forgets a session once it expires", () => {
    let now = 1_000;
    const sessions = new ResumableSessions<string>(() => now, { ttlMs: 500 });
    const session = sessions.open("x");
    now += 499;
    expect(sessions.get(session.id)).toBe(session);
    now += 1;
    expect(sessions.get(session.id)).toBeUndefined();
  });

  it("caps one upload's bytes, and all sessions' bytes by dropping others", () => {
    const sessions = new ResumableSessions<string>(Date.now, {
      maxUploadBytes: 10,
      maxTotalBytes: 15,
    });
    const a = sessions.open("a");
    expect(a.append(Buffer.alloc(8))).toBe(true);
    expect(a.append(Buffer.alloc(3))).toBe(false);
    expect(a.received).toBe(8);
    const b = sessions.open("b");
    expect(b.append(Buffer.alloc(10))).toBe(true);
    // a was dropped to make room for b's bytes.
    expect(sessions.get(a.id)).toBeUndefined();
    expect(b.content().length).toBe(10);
  });
});

describe("parseContentRange", () => {
  it("reads Google's four forms and refuses the rest", () => {
    expect(parseContentRange(undefined)).toEqual({ kind: "whole" });
    expect(parseContentRange("bytes 0-9/10")).toEqual({
      kind: "bytes",
      first: 0,
      last: 9,
      total: 10,
    });
    expect(parseContentRange("bytes 0-9/*")).toEqual({
      kind: "bytes",
      first: 0,
      last: 9,
      total: undefined,
    });
    expect(parseContentRange("bytes */10")).toEqual({ kind: "query", total: 10 });
    expect(parseContentRange("bytes */*")).toEqual({ kind: "query", total: undefined });
    for (const bad of ["bytes=0-9/10", "bytes 0-/10", "items 0-9/10", "bytes -1-9/10", ""]) {
      expect(parseContentRange(bad)).toBe("invalid");
    }
  });
});
