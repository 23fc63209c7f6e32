import * as oauth from "oauth4webapi";
import { StewardError } from "../errors.js";

/**
 * Google's token endpoint answered, but not with tokens: a refusal (`oauthError` from its body,
 * when it has one) or a 200 no client could use. Carries no part of the body: a 200 holds secrets.
 */
export class UnusableTokenAnswer extends Error {
  override readonly name = "UnusableTokenAnswer";
  constructor(
    readonly status: number,
    readonly oauthError: string | undefined,
    problem: string,
  ) {
    super(problem);
  }
}

/**
 * Classifies a failed token- or revocation-endpoint call. Google's verdicts on the grant stay
 * distinct (`invalid_grant`, `redirect_uri_mismatch`); a rejected client is our configuration's
 * fault (`client_rejected`); a 429, a 5xx, a timeout, a dropped connection or garbage is
 * `upstream_unavailable`.
 */
export function oauthFailure(error: unknown, operation: string): StewardError {
  const refusal = refusalOf(error);
  // 429 is "slow down", a transient fault like a 5xx.
  if (refusal !== undefined && refusal.status < 500 && refusal.status !== 429) {
    const detail = `${operation}: Google answered ${refusal.status} ${refusal.error}`;
    switch (refusal.error) {
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

/** The OAuth error code and status of a refusal, from our reading or oauth4webapi's. */
function refusalOf(error: unknown): { status: number; error: string } | undefined {
  if (error instanceof UnusableTokenAnswer && error.oauthError !== undefined) {
    return { status: error.status, error: error.oauthError };
  }
  if (error instanceof oauth.ResponseBodyError) return { status: error.status, error: error.error };
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof UnusableTokenAnswer)
    return `Google answered ${error.status}: ${error.message}`;
  if (error instanceof oauth.ResponseBodyError) return `Google answered ${error.status}`;
  if (error instanceof Error)
    return `${error.name} ${"code" in error ? String(error.code) : ""}`.trim();
  return "unknown failure";
}
