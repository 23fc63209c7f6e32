import * as oauth from "oauth4webapi";
import type { OAuthClient } from "./client.js";
import { oauthFailure } from "./errors.js";
import { type GoogleTokens, tokensOf } from "./tokens.js";

/**
 * Trades a refresh token for a fresh access token. Google returns no new refresh token, and may
 * or may not return an ID token (unverified, unused here).
 *
 * @throws StewardError `invalid_grant` when the grant is dead (revoked, expired, evicted),
 *   `client_rejected`, `upstream_rejected`, `upstream_unavailable`.
 * @example
 *   const { accessToken, expiresAt } = await refreshTokenGrant(client, refreshToken);
 */
export async function refreshTokenGrant(
  { server, client, authentication, transport }: OAuthClient,
  refreshToken: string,
  now: () => number = Date.now,
): Promise<GoogleTokens> {
  try {
    const response = await oauth.refreshTokenGrantRequest(
      server,
      client,
      authentication,
      refreshToken,
      transport,
    );
    return await tokensOf(response, now());
  } catch (error) {
    throw oauthFailure(error, "refresh");
  }
}
