import * as oidc from "openid-client";
import { StewardError } from "../errors.js";

/**
 * Classifies a failed token-endpoint call. Google's verdicts on the grant stay distinct
 * (`invalid_grant`, `redirect_uri_mismatch`); a rejected client is our configuration's fault
 * (`client_rejected`); an ID token openid-client refuses in a 200 is `id_token_invalid` (the code
 * is spent: trying again cannot help); a 429, a 5xx, a timeout, a dropped connection or other
 * garbage is `upstream_unavailable`.
 */
export function oauthFailure(error: unknown, operation: string): StewardError {
  if (refusesIdToken(error)) {
    return new StewardError("id_token_invalid", {
      detail: `${operation}: openid-client refused the ID token in Google's answer (${error.code}: ${causeMessage(error)})`,
      cause: error,
    });
  }
  // 429 is "slow down", a transient fault like a 5xx.
  if (error instanceof oidc.ResponseBodyError && error.status < 500 && error.status !== 429) {
    const detail = `${operation}: Google answered ${error.status} ${error.error}`;
    switch (error.error) {
      case "invalid_grant":
        return new StewardError("invalid_grant", { detail, cause: error });
      case "redirect_uri_mismatch":
        return new StewardError("redirect_uri_mismatch", { detail, cause: error });
      case "invalid_client":
      case "unauthorized_client":
        return new StewardError("client_rejected", { detail, cause: error });
      default:
        return new StewardError("upstream_rejected", { detail, cause: error });
    }
  }
  return new StewardError("upstream_unavailable", {
    detail: `${operation}: ${describe(error)}`,
    cause: error,
  });
}

/**
 * openid-client's verdict on the ID token of a token response: a JWT claim or time check (the ID
 * token is the only JWT in Google's token responses), or a shape check naming the JWT or the
 * `id_token` member. Its messages carry no claim values.
 */
function refusesIdToken(error: unknown): error is oidc.ClientError {
  if (!(error instanceof oidc.ClientError)) return false;
  switch (error.code) {
    case "OAUTH_JWT_CLAIM_COMPARISON_FAILED":
    case "OAUTH_JWT_TIMESTAMP_CHECK_FAILED":
      return true;
    case "OAUTH_INVALID_RESPONSE":
    case "OAUTH_PARSE_ERROR":
      return /\bJWT\b|"id_token"/.test(causeMessage(error));
    default:
      return false;
  }
}

function causeMessage(error: Error): string {
  return error.cause instanceof Error ? error.cause.message : "";
}

function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return `Google answered ${error.status}`;
  if (error instanceof Error)
    return `${error.name} ${"code" in error ? String(error.code) : ""}`.trim();
  return "unknown failure";
}
