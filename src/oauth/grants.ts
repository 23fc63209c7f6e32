import * as oidc from "openid-client";
import { oauthFailure } from "./errors.js";
import { type GoogleTokens, tokensOf } from "./tokens.js";

/**
 * Redeems a one-time authorization code. Never retried: a code works once, so a retry after a
 * lost response could only fail, or worse, race the first attempt.
 *
 * The ID token comes back unverified: `verifyIdToken` is the one that judges it.
 *
 * @param redirectUri `""` for iOS/Android serverAuthCodes, `postmessage` for web popup codes.
 * @throws StewardError `invalid_grant`, `redirect_uri_mismatch`, `client_rejected`,
 *   `upstream_rejected`, `upstream_unavailable`.
 */
export async function authorizationCodeGrant(
  config: oidc.Configuration,
  code: string,
  redirectUri: string,
  now: () => number = Date.now,
): Promise<GoogleTokens> {
  try {
    const response = await oidc.genericGrantRequest(config, "authorization_code", {
      code,
      redirect_uri: redirectUri,
    });
    return tokensOf(response, now());
  } catch (error) {
    throw oauthFailure(error, "code exchange");
  }
}

/**
 * Trades a refresh token for a fresh access token (Google returns no new refresh token).
 *
 * @throws StewardError `invalid_grant` when the grant is dead (revoked, expired, evicted),
 *   `client_rejected`, `upstream_rejected`, `upstream_unavailable`.
 */
export async function refreshTokenGrant(
  config: oidc.Configuration,
  refreshToken: string,
  now: () => number = Date.now,
): Promise<GoogleTokens> {
  try {
    const response = await oidc.refreshTokenGrant(config, refreshToken);
    return tokensOf(response, now());
  } catch (error) {
    throw oauthFailure(error, "refresh");
  }
}

/**
 * Revokes a token at Google, which ends the whole grant. A token Google no longer knows
 * (`invalid_token`) counts as already revoked: returns false.
 *
 * @throws StewardError `client_rejected`, `upstream_rejected`, `upstream_unavailable`.
 */
export async function tokenRevocation(config: oidc.Configuration, token: string): Promise<boolean> {
  try {
    await oidc.tokenRevocation(config, token);
    return true;
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.error === "invalid_token") return false;
    throw oauthFailure(error, "revocation");
  }
}
