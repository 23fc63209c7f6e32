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
  api_key_not_found: { status: 404, message: "There is no live API key with this id." },
  client_rejected: {
    status: 500,
    message:
      "Google rejected this server's OAuth client; the operator must check its ID and secret.",
  },
  config_invalid: { status: 500, message: "The configuration is invalid." },
  credential_busy: {
    status: 503,
    message: "Another instance holds this user's credential for too long; try again.",
  },
  credential_corrupt: { status: 500, message: "A stored credential cannot be opened." },
  credential_revoked: {
    status: 409,
    message: "The user's Google grant is revoked or expired; they must sign in again.",
  },
  csrf_header_missing: { status: 403, message: "A non-empty X-Requested-With header is required." },
  data_dir_locked: { status: 500, message: "Another Steward is using this data directory." },
  database_unavailable: { status: 503, message: "The database is unavailable." },
  emulator_not_installed: {
    status: 500,
    message:
      "Emulator mode needs the @steward/emulator package: install it, or configure a Google client (STEWARD_GOOGLE=google).",
  },
  emulator_state_corrupt: {
    status: 500,
    message: "The local emulator's saved state cannot be read.",
  },
  forbidden: { status: 403, message: "This credential may not do this." },
  headers_too_large: {
    status: 431,
    message: "The request line and headers are too large.",
  },
  https_required: { status: 403, message: "This endpoint must be called over HTTPS." },
  id_token_invalid: { status: 401, message: "The Google ID token is invalid." },
  internal_error: { status: 500, message: "Something went wrong on our side." },
  invalid_grant: {
    status: 400,
    message:
      "Google refused the grant: the code is invalid, expired or already used, or access was revoked.",
  },
  invalid_request: { status: 400, message: "The request is malformed." },
  key_missing: { status: 500, message: "A stored credential is sealed with a key not configured." },
  keys_invalid: { status: 500, message: "The keyring (STEWARD_KEYS) is invalid." },
  method_not_allowed: {
    status: 405,
    message: "This method is not allowed here.",
  },
  not_found: { status: 404, message: "There is nothing at this address." },
  origin_not_allowed: { status: 403, message: "This origin may not call this endpoint." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  port_in_use: { status: 500, message: "The port is already in use." },
  rate_limited: { status: 429, message: "Too many requests; slow down." },
  redirect_uri_mismatch: {
    status: 400,
    message: "The redirect URI does not match the one the code was issued for.",
  },
  request_timeout: { status: 408, message: "The request was not received in time." },
  scope_not_granted: { status: 403, message: "The user did not grant a scope this needs." },
  seed_refused: {
    status: 409,
    message: "Seeding is for benchmarks on the emulator and an empty database (or --append).",
  },
  security_event_invalid: {
    status: 400,
    message:
      "The security event token is invalid: malformed, or its signature, key, issuer or audience is wrong.",
  },
  unauthenticated: { status: 401, message: "A valid bearer credential is required." },
  unsupported_media_type: {
    status: 415,
    message:
      "Send the code as JSON, a form field, or a text/plain or application/octet-stream body.",
  },
  upstream_rejected: { status: 502, message: "Google refused the request unexpectedly." },
  upstream_unavailable: { status: 502, message: "Google could not be reached; try again." },
  url_not_allowed: { status: 400, message: "Only Google API hosts may receive a user's token." },
  user_not_found: { status: 404, message: "There is no such user." },
  webhook_signature_invalid: {
    status: 401,
    message: "The webhook's signature or timestamp is invalid.",
  },
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

/** Whether the user's grant is gone (revoked, or no such user): only a new sign-in helps. */
export function isGrantGone(value: unknown): value is StewardError {
  return isStewardError(value, "credential_revoked") || isStewardError(value, "user_not_found");
}
