import { StewardError } from "../errors.js";

/** Node's errors of a connection that could not be made or was cut. */
const SOCKET_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
]);

/** pg's and Kysely's messages for a connection already cut (they carry no code). */
const CUT_CONNECTION =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Postgres connection has been discarded)/;

/**
 * Whether `error` says the database is out of reach (refused, cut, shutting down), rather than
 * that a statement was wrong: SQLSTATE class 08 and 57P01-57P03, socket errors, and the
 * refusals (with no code) to use a connection already cut: pg's "Connection terminated" and
 * "not queryable", Kysely's for a connection it discarded once a rollback on it failed. A
 * lock's release in a `finally` meets those, hiding the cut that came first.
 */
export function isDatabaseDown(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") {
    if (code.startsWith("08") || /^57P0[123]$/.test(code) || SOCKET_ERRORS.has(code)) return true;
  }
  if (!(error instanceof Error)) return false;
  return CUT_CONNECTION.test(error.message);
}

/** `database_unavailable` for `error`, naming `what` could not be done (never a value). */
export function databaseUnavailable(what: string, cause: unknown): StewardError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new StewardError("database_unavailable", {
    detail: `${what}: the database is out of reach (${typeof code === "string" ? code : "no code"})`,
    cause,
  });
}
