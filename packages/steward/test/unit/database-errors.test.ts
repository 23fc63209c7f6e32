import { expect, it } from "vitest";
import { databaseUnavailable, isDatabaseDown } from "../../src/store/index.js";

it("tells a database out of reach from a statement that was wrong", () => {
  const withCode = (code: string) => Object.assign(new Error("x"), { code });
  for (const code of ["ECONNREFUSED", "ECONNRESET", "08006", "08001", "57P01", "57P03"]) {
    expect(isDatabaseDown(withCode(code))).toBe(true);
  }
  expect(isDatabaseDown(new Error("Connection terminated unexpectedly"))).toBe(true);
  // What a statement on a connection already cut throws (pg, then Kysely once it discarded it).
  for (const message of [
    "Client has encountered a connection error and is not queryable",
    "Client was closed and is not queryable",
    "Postgres connection has been discarded",
  ]) {
    expect(isDatabaseDown(new Error(message))).toBe(true);
  }
  for (const code of ["23505", "23503", "42P01", "55P03", "57014"]) {
    expect(isDatabaseDown(withCode(code))).toBe(false);
  }
  expect(isDatabaseDown(new TypeError("nope"))).toBe(false);
  expect(isDatabaseDown(undefined)).toBe(false);
});

it("maps it to database_unavailable (503), naming what was not done", () => {
  const error = databaseUnavailable("the sign-in was not stored", { code: "ECONNREFUSED" });
  expect(error).toMatchObject({ code: "database_unavailable", status: 503 });
  expect(error.detail).toContain("the sign-in was not stored");
  expect(error.detail).toContain("ECONNREFUSED");
});
