import type { FastifyReply } from "fastify";

/**
 * Google's two error shapes. OAuth endpoints (/token, /revoke, /tokeninfo) answer
 * `{"error": "...", "error_description": "..."}`; APIs (Drive, Photos, userinfo v1, the control
 * API) answer `{"error": {"code", "message", "errors": [...], "status"}}`.
 */

export function sendOAuthError(
  reply: FastifyReply,
  status: number,
  error: string,
  description?: string,
): FastifyReply {
  const body: Record<string, string> = { error };
  if (description !== undefined) body.error_description = description;
  return reply
    .code(status)
    .header("cache-control", "no-cache, no-store, max-age=0, must-revalidate")
    .header("pragma", "no-cache")
    .type("application/json; charset=utf-8")
    .send(body);
}

const CANONICAL_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "ALREADY_EXISTS",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export interface ApiErrorItem {
  reason: string;
  message?: string;
  domain?: string;
  location?: string;
  locationType?: string;
}

export function apiErrorBody(status: number, message: string, item?: ApiErrorItem) {
  const errors = item
    ? [
        {
          message: item.message ?? message,
          domain: item.domain ?? "global",
          reason: item.reason,
          ...(item.location ? { location: item.location } : {}),
          ...(item.locationType ? { locationType: item.locationType } : {}),
        },
      ]
    : undefined;
  return {
    error: {
      code: status,
      message,
      ...(errors ? { errors } : {}),
      status: CANONICAL_STATUS[status] ?? "UNKNOWN",
    },
  };
}

export function sendApiError(
  reply: FastifyReply,
  status: number,
  message: string,
  item?: ApiErrorItem,
): FastifyReply {
  return reply
    .code(status)
    .type("application/json; charset=UTF-8")
    .send(apiErrorBody(status, message, item));
}

/** Google's 401 for a missing, expired or revoked access token on an API call. */
export function sendInvalidCredentials(reply: FastifyReply): FastifyReply {
  return sendApiError(
    reply.header("www-authenticate", 'Bearer realm="https://accounts.google.com/"'),
    401,
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    {
      message: "Invalid Credentials",
      reason: "authError",
      location: "Authorization",
      locationType: "header",
    },
  );
}

/** Google's 403 when the access token lacks the scope an API method needs. */
export function sendInsufficientScopes(
  reply: FastifyReply,
  neededScopes: readonly string[],
): FastifyReply {
  return sendApiError(
    reply.header(
      "www-authenticate",
      `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${neededScopes.join(" ")}"`,
    ),
    403,
    "Request had insufficient authentication scopes.",
    { message: "Insufficient Permission", reason: "insufficientPermissions" },
  );
}
