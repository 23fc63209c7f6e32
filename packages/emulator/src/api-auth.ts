import type { FastifyReply, FastifyRequest } from "fastify";
import { queryParam } from "./api-params.js";
import { sendInsufficientScopes, sendInvalidCredentials } from "./google-errors.js";
import type { AccessTokenRecord } from "./model.js";
import type { EmulatorState } from "./state.js";

/** The bearer token of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Authenticates a Google API call: a live access token holding at least one of `anyOfScopes`.
 * On failure it sends Google's 401 or 403 and returns undefined.
 */
export function requireAccessToken(
  state: EmulatorState,
  request: FastifyRequest,
  reply: FastifyReply,
  anyOfScopes: readonly string[],
): AccessTokenRecord | undefined {
  // Google also takes the token as the `access_token` query parameter, which some clients send.
  const token = bearerToken(request) ?? queryParam(request, "access_token");
  const record = token === undefined ? undefined : state.liveAccessToken(token);
  if (record === undefined) {
    sendInvalidCredentials(reply);
    return undefined;
  }
  if (anyOfScopes.length > 0 && !anyOfScopes.some((scope) => record.scopes.includes(scope))) {
    sendInsufficientScopes(reply, anyOfScopes);
    return undefined;
  }
  return record;
}
