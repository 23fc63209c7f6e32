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

/**
 * Whether `error` says the database is out of reach (refused, cut, shutting down), rather than
 * that a statement was wrong: SQLSTATE class 08 and 57P01-57P03, socket errors, and pg's
 * "Connection terminated" (which carries no code).
 */
export function isDatabaseDown(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") {
    if (code.startsWith("08") || /^57P0[123]$/.test(code) || SOCKET_ERRORS.has(code)) return true;
  }
  return error instanceof Error && error.message.startsWith("Connection terminated");
}

/** `database_unavailable` for `error`, naming `what` could not be done (never a value). */
export function databaseUnavailable(what: string, cause: unknown): StewardError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new StewardError("database_unavailable", {
    detail: `${what}: the database is out of reach (${typeof code === "string" ? code : "no code"})`,
    cause,
  });
}
