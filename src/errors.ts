/**
 * The one error family Steward raises on purpose.
 *
 * Every failure of untrusted input, of configuration or of an upstream service is a
 * {@link StewardError} with a stable snake_case `code` and an HTTP `status`. Its `message` is
 * public (safe to show a caller); `detail` is private (for logs only) and never echoes a secret.
 * A caller's programming mistake is a plain `TypeError` instead.
 *
 * Every code is listed in docs/errors.md; test/unit/errors.test.ts fails when the two disagree.
 */

interface CatalogEntry {
  readonly status: number;
  readonly message: string;
}

/** Stable codes, their HTTP status and their default public message. */
export const ERROR_CATALOG = {
  config_invalid: { status: 500, message: "The configuration is invalid." },
  id_token_invalid: { status: 401, message: "The Google ID token is invalid." },
  internal_error: { status: 500, message: "Something went wrong on our side." },
  invalid_request: { status: 400, message: "The request is malformed." },
  not_found: { status: 404, message: "There is nothing at this address." },
  port_in_use: { status: 500, message: "The port is already in use." },
  upstream_unavailable: { status: 502, message: "Google could not be reached; try again." },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface StewardErrorOptions {
  /** Public message; defaults to the catalogue's message for the code. */
  message?: string;
  /** Private detail for logs. Never put a token, code or secret here. */
  detail?: string;
  cause?: unknown;
}

export class StewardError extends Error {
  override readonly name = "StewardError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: StewardErrorOptions = {}) {
    const entry: CatalogEntry = ERROR_CATALOG[code];
    if (entry === undefined) throw new TypeError(`unknown error code: ${String(code)}`);
    super(options.message ?? entry.message, { cause: options.cause });
    this.code = code;
    this.status = entry.status;
    this.detail = options.detail;
  }

  /** The public envelope, `{ error: { code, message } }`; detail and cause stay private. */
  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isStewardError(value: unknown, code?: ErrorCode): value is StewardError {
  return value instanceof StewardError && (code === undefined || value.code === code);
}
