import { OAuth2Client } from "google-auth-library";
import type { TokenManager } from "../tokens/token-manager.js";

/** google-auth-library refreshes when less than this remains; hand it tokens that outlive it. */
const LIBRARY_EAGER_REFRESH_MS = 5 * 60_000;

/**
 * An `OAuth2Client` for `sub` whose tokens come from the TokenManager, usable as `auth` by the
 * official `@googleapis/*` clients. It holds no refresh token: on expiry, and once after a 401
 * or 403, the library asks the refresh handler, which asks the TokenManager (a refused token is
 * never handed out again).
 *
 * @example
 *   const drive = google.drive({ version: "v3", auth: authClient(tokens, sub) });
 */
export function authClient(tokens: Pick<TokenManager, "accessToken">, sub: string): OAuth2Client {
  const client = new OAuth2Client({ forceRefreshOnFailure: true });
  client.refreshHandler = async () => {
    const current = client.credentials;
    // Called while the current token was not near expiry: Google refused it.
    const refused =
      current.access_token &&
      current.expiry_date &&
      current.expiry_date - Date.now() > LIBRARY_EAGER_REFRESH_MS
        ? current.access_token
        : undefined;
    const token = await tokens.accessToken(sub, {
      minValidityMs: LIBRARY_EAGER_REFRESH_MS + 60_000,
      rejectedToken: refused ?? undefined,
    });
    return { access_token: token.token, expiry_date: token.expiresAt.getTime() };
  };
  return client;
}
