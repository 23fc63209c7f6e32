import { Readable } from "node:stream";
import { type gaxios, OAuth2Client } from "google-auth-library";
import type { TokenManager } from "../tokens/token-manager.js";
import { refuseToken } from "./fetch-as.js";

/** google-auth-library refreshes when less than this remains; hand it tokens that outlive it. */
const LIBRARY_EAGER_REFRESH_MS = 5 * 60_000;
const MIN_VALIDITY_MS = LIBRARY_EAGER_REFRESH_MS + 60_000;

type TokenSource = Pick<TokenManager, "accessToken">;

/**
 * An `OAuth2Client` for `sub` whose tokens come from the TokenManager, usable as `auth` by the
 * official `@googleapis/*` clients. It holds no refresh token: near expiry the library asks the
 * refresh handler, which asks the TokenManager. A 401 tells the TokenManager the token was
 * refused (it is never handed out again) and the request is sent once more with a fresh one,
 * unless its body was a stream, read once. A 403 (a rate limit, a quota, a permission) is the
 * caller's answer as is: the token is fine, and refreshing it would not help.
 *
 * @throws StewardError from a request: those of {@link TokenManager.accessToken}. Google's own
 *   refusals reach the caller as the library's `GaxiosError`, as with any `OAuth2Client`.
 * @example
 *   const drive = google.drive({ version: "v3", auth: authClient(tokens, sub) });
 */
export function authClient(tokens: TokenSource, sub: string): OAuth2Client {
  return new StewardAuthClient(tokens, sub);
}

/**
 * The library's own retry on failure (`forceRefreshOnFailure`) would also fire on every 403 and
 * could not tell the TokenManager which token was refused; this client keeps it off and handles
 * the 401 itself, per request, refusing the token that request read just before it was sent.
 */
class StewardAuthClient extends OAuth2Client {
  constructor(
    private readonly tokens: TokenSource,
    private readonly sub: string,
  ) {
    super({ eagerRefreshThresholdMillis: LIBRARY_EAGER_REFRESH_MS, forceRefreshOnFailure: false });
    this.refreshHandler = async () =>
      credentialsOf(await tokens.accessToken(sub, { minValidityMs: MIN_VALIDITY_MS }));
  }

  protected override async requestAsync<T>(
    opts: gaxios.GaxiosOptions,
    reAuthRetried = false,
  ): Promise<gaxios.GaxiosResponse<T>> {
    // The token this request carries (Gaxios redacts it from the error); refreshed first if
    // near expiry, so the library's own look just after finds the same one.
    const { token: sent } = await this.getAccessToken();
    try {
      // `true`: the library must not refresh-and-retry on its own (it would on a 403 too).
      return await super.requestAsync<T>(opts, true);
    } catch (error) {
      const response = (error as Partial<gaxios.GaxiosError>).response;
      if (reAuthRetried || response?.status !== 401 || !sent) throw error;
      if (!replayable(response.config.data)) {
        // Sent once, read once: the caller gets the 401, and the next request a fresh token.
        const fresh = await refuseToken(this.tokens, this.sub, sent);
        this.credentials = fresh === undefined ? {} : credentialsOf(fresh);
        throw error;
      }
      // Google refused a token we thought valid (revoked, or rotated elsewhere): refresh once.
      const token = await this.tokens.accessToken(this.sub, {
        minValidityMs: MIN_VALIDITY_MS,
        rejectedToken: sent,
      });
      this.setCredentials(credentialsOf(token));
      return super.requestAsync<T>(opts, true);
    }
  }
}

function credentialsOf(token: { token: string; expiresAt: Date }) {
  return { access_token: token.token, expiry_date: token.expiresAt.getTime() };
}

/** A stream body was read by the first attempt; it cannot be sent again. */
function replayable(data: unknown): boolean {
  return !(data instanceof Readable || data instanceof ReadableStream);
}
