import * as oauth from "oauth4webapi";
import type { OAuthClient } from "./client.js";
import { oauthFailure } from "./errors.js";
import { type GoogleTokens, tokensOf } from "./tokens.js";

/**
 * Redeems a one-time authorization code. Never retried: a code works once, so a retry after a
 * lost response could only fail, or worse, race the first attempt.
 *
 * The code reaches Steward from an app (a serverAuthCode, a web popup's code), not through a
 * redirect to Steward, so there is no authorization response to check: the grant is sent as
 * oauth4webapi's generic token-endpoint request. The ID token comes back unverified:
 * `verifyIdToken` is the one that judges it.
 *
 * @param redirectUri `""` for iOS/Android serverAuthCodes, `postmessage` for web popup codes.
 * @throws StewardError `invalid_grant`, `redirect_uri_mismatch`, `client_rejected`,
 *   `upstream_rejected`, `upstream_unavailable`.
 * @example
 *   const tokens = await authorizationCodeGrant(client, serverAuthCode, "");
 */
export async function authorizationCodeGrant(
  { server, client, authentication, transport }: OAuthClient,
  code: string,
  redirectUri: string,
  now: () => number = Date.now,
): Promise<GoogleTokens> {
  try {
    const response = await oauth.genericTokenEndpointRequest(
      server,
      client,
      authentication,
      "authorization_code",
      { code, redirect_uri: redirectUri },
      transport,
    );
    return await tokensOf(response, now());
  } catch (error) {
    throw oauthFailure(error, "code exchange");
  }
}
