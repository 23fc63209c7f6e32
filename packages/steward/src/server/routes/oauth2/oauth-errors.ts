import { Type } from "@sinclair/typebox";
import type { FastifyError, FastifyInstance } from "fastify";
import { type ErrorCode, isStewardError } from "../../../errors.js";

/** The error codes `/oauth2/token` answers (RFC 6749 section 5.2, RFC 8693, and 503's). */
export const OAUTH_ERROR_CODES = [
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "temporarily_unavailable",
  "server_error",
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/** The body of every refusal: OAuth's shape, which Google's client libraries parse. */
export const OAuthErrorBody = Type.Object({
  error: Type.Union(OAUTH_ERROR_CODES.map((code) => Type.Literal(code))),
  error_description: Type.Optional(Type.String()),
});

/** Seconds a client is asked to wait after `temporarily_unavailable`. */
const RETRY_AFTER_SECONDS = 10;

/**
 * A refusal of the token endpoint: an OAuth code, its HTTP status, a description safe for the
 * client, and a private detail for the log. Never holds a secret.
 */
export class OAuthError extends Error {
  override readonly name = "OAuthError";
  readonly status: number;
  readonly detail: string | undefined;
  /** The client authenticated with HTTP Basic: a 401 carries `WWW-Authenticate: Basic`. */
  basicChallenge = false;

  constructor(
    readonly code: OAuthErrorCode,
    description: string,
    options: { detail?: string | undefined; cause?: unknown } = {},
  ) {
    super(description, { cause: options.cause });
    this.status = STATUS[code];
    this.detail = options.detail;
  }
}

const STATUS: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  temporarily_unavailable: 503,
  server_error: 500,
};

/** Steward's own failures, as the OAuth error a client library understands. */
const FROM_STEWARD: Readonly<Partial<Record<ErrorCode, [OAuthErrorCode, string]>>> = {
  user_not_found: ["invalid_grant", "Steward has no grant for this user."],
  credential_revoked: [
    "invalid_grant",
    "The user's Google grant is revoked or expired; they must sign in again.",
  ],
  id_token_invalid: ["invalid_grant", "The ID token is invalid or expired."],
  unauthenticated: ["invalid_client", "The client credentials are not valid."],
  forbidden: ["unauthorized_client", "This API key lacks the tokens:read scope."],
  https_required: ["invalid_request", "This endpoint must be called over HTTPS."],
  invalid_request: ["invalid_request", "The request is malformed."],
  payload_too_large: ["invalid_request", "The request body is too large."],
  upstream_unavailable: ["temporarily_unavailable", "Google could not be reached; try again."],
  credential_busy: ["temporarily_unavailable", "The user's credential is busy; try again."],
  database_unavailable: ["temporarily_unavailable", "Steward's database is unavailable."],
};

/** Any failure of the token endpoint as an OAuthError; unknown ones are `server_error`. */
export function asOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  if (isStewardError(error)) {
    if (error.code === "scope_not_granted")
      return new OAuthError("invalid_scope", error.message, { detail: error.detail, cause: error });
    const known = FROM_STEWARD[error.code];
    if (known) return new OAuthError(known[0], known[1], { detail: error.detail, cause: error });
    return new OAuthError("server_error", "Something went wrong on our side.", {
      detail: `${error.code}: ${error.detail ?? ""}`,
      cause: error,
    });
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation) {
    // Fastify's message names the field and the rule, never the value sent.
    return new OAuthError("invalid_request", `Invalid request: ${fastify.message}`, {
      cause: error,
    });
  }
  if (typeof fastify.statusCode === "number" && fastify.statusCode < 500) {
    return new OAuthError("invalid_request", "The request is malformed.", {
      detail: fastify.code,
      cause: error,
    });
  }
  return new OAuthError("server_error", "Something went wrong on our side.", {
    detail: (error as Error)?.message,
    cause: error,
  });
}

/**
 * Answers every failure in the plugin where it is registered in OAuth's shape, `{error,
 * error_description}`, instead of Steward's envelope: OAuth clients parse this one.
 */
export function registerOAuthErrors(app: FastifyInstance): void {
  app.setErrorHandler((raw, request, reply) => {
    const error = asOAuthError(raw);
    const log = { code: error.code, detail: error.detail, status: error.status };
    if (error.status >= 500)
      request.log.error({ ...log, err: error.cause ?? raw }, "token refused");
    else request.log.info(log, "token refused");
    if (error.code === "temporarily_unavailable")
      reply.header("retry-after", String(RETRY_AFTER_SECONDS));
    if (error.code === "invalid_client" && error.basicChallenge)
      reply.header("www-authenticate", 'Basic realm="steward"');
    return reply.code(error.status).send({ error: error.code, error_description: error.message });
  });
}
