import { authClient } from "../access/auth-client.js";
import { fetchAs } from "../access/fetch-as.js";
import { isGrantGone, type StewardError } from "../errors.js";
import { atApiBase, type GoogleEndpoints } from "../google/endpoints.js";
import type { AccessToken, TokenManager } from "../tokens/token-manager.js";
import type { GoogleAccess } from "./types.js";

export interface AttemptAccess {
  readonly google: GoogleAccess;
  /** The error saying the grant is gone (revoked, or no such user) met in this attempt, if any. */
  permanentError(): StewardError | undefined;
}

export interface AttemptAccessOptions {
  tokens: TokenManager;
  endpoints: GoogleEndpoints;
  sub: string;
  /** The job's scopes: required of every token unless the handler asks for others. */
  scopes: readonly string[] | undefined;
  signal: AbortSignal;
  /** Called with each token before the job gets it; must not keep or log the token. */
  onToken: (token: AccessToken) => Promise<void>;
}

/**
 * The `google` of one job attempt: the library's `fetchAs` and `authClient` over a token source
 * that reports every token to `onToken` first (the audit) and remembers a grant found gone,
 * so a handler that wraps `credential_revoked` in its own error still fails the job at once.
 */
export function attemptAccess(options: AttemptAccessOptions): AttemptAccess {
  const { tokens, endpoints, sub } = options;
  let permanent: StewardError | undefined;
  const source: Pick<TokenManager, "accessToken"> = {
    accessToken: async (forSub, tokenOptions) => {
      try {
        const token = await tokens.accessToken(forSub, tokenOptions);
        await options.onToken(token);
        return token;
      } catch (error) {
        // Not `scope_not_granted`: a handler may ask for an optional scope, catch the refusal
        // and do without. A grant gone dooms the attempt however the handler goes on.
        if (isGrantGone(error)) permanent ??= error;
        throw error;
      }
    },
  };
  const google: GoogleAccess = {
    fetch: (url, init = {}) =>
      fetchAs(
        source,
        endpoints.isApiUrl,
        sub,
        atApiBase(endpoints, url),
        { ...init, signal: init.signal ?? options.signal },
        { scopes: options.scopes },
      ),
    authClient: () => authClient(source, sub),
    accessToken: async (scopes) =>
      (await source.accessToken(sub, { scopes: scopes ?? options.scopes })).token,
  };
  return { google, permanentError: () => permanent };
}
