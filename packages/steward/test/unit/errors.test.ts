import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, type ErrorCode, isStewardError, StewardError } from "../../src/errors.js";

function documentedCodes(): Map<string, number> {
  const text = readFileSync(new URL("../../../../docs/errors.md", import.meta.url), "utf8");
  const rows = new Map<string, number>();
  for (const match of text.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(match[1] as string, Number(match[2]));
  }
  return rows;
}

describe("error catalogue", () => {
  it("docs/errors.md lists exactly the codes of src/errors.ts, with the same statuses", () => {
    const documented = Object.fromEntries(documentedCodes());
    const inCode = Object.fromEntries(
      Object.entries(ERROR_CATALOG).map(([code, entry]) => [code, entry.status]),
    );
    expect(documented).toEqual(inCode);
  });

  it("codes are snake_case and statuses are HTTP error statuses", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
    }
  });
});

describe("StewardError", () => {
  it("keeps the detail and cause private in its JSON envelope", () => {
    const cause = new Error("socket hang up");
    const error = new StewardError("invalid_request", { detail: "field x", cause });
    expect(error.status).toBe(400);
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(error)).toBe(
      JSON.stringify({ error: { code: "invalid_request", message: "The request is malformed." } }),
    );
    expect(isStewardError(error, "invalid_request")).toBe(true);
    expect(isStewardError(error, "not_found")).toBe(false);
  });

  it("refuses an unknown code as a programming mistake", () => {
    expect(() => new StewardError("no_such_code" as ErrorCode)).toThrow(TypeError);
  });
});
