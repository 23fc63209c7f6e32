import * as oidc from "openid-client";
import { StewardError } from "../errors.js";

/**
 * Classifies a failed token-endpoint call. Google's verdicts on the grant stay distinct
 * (`invalid_grant`, `redirect_uri_mismatch`); a rejected client is our configuration's fault
 * (`client_rejected`); a 429, a 5xx, a timeout, a dropped connection or garbage is
 * `upstream_unavailable`. (The ID token of a 200 is not openid-client's to judge: see
 * createOAuthClient.)
 */
export function oauthFailure(error: unknown, operation: string): StewardError {
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

function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) return `Google answered ${error.status}`;
  if (error instanceof Error)
    return `${error.name} ${"code" in error ? String(error.code) : ""}`.trim();
  return "unknown failure";
}
