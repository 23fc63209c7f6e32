import * as oauth from "oauth4webapi";
import type { OAuthClient } from "./client.js";
import { oauthFailure } from "./errors.js";

/**
 * Revokes a token at Google, which ends the whole grant. A token Google no longer knows
 * (`invalid_token`) counts as already revoked: returns false.
 *
 * @throws StewardError `client_rejected`, `upstream_rejected`, `upstream_unavailable`.
 * @example
 *   const revoked = await tokenRevocation(client, refreshToken);
 */
export async function tokenRevocation(
  { server, client, authentication, transport }: OAuthClient,
  token: string,
): Promise<boolean> {
  try {
    const response = await oauth.revocationRequest(
      server,
      client,
      authentication,
      token,
      transport,
    );
    await oauth.processRevocationResponse(response);
    return true;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.error === "invalid_token") return false;
    throw oauthFailure(error, "revocation");
  }
}
