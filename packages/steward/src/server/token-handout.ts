import { StewardError } from "../errors.js";
import type { VaultStore } from "../store/index.js";
import type { AccessToken, TokenManager } from "../tokens/token-manager.js";
import type { Caller } from "./plugins/api-auth.js";

/** What handing a user's token to a backend needs. */
export interface TokenHandoutDependencies {
  tokens: TokenManager;
  store: VaultStore;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** How a handout is recorded in the audit log: which route, which grant. */
export interface HandoutAudit {
  readonly route: string;
  readonly grantType?: string;
}

/**
 * Scopes a caller asked for, as a query or form value: repeated, or space-separated (OAuth's
 * `scope`). Empty values ask for nothing.
 */
export function askedScopes(asked: string | readonly string[] | undefined): string[] {
  const values = Array.isArray(asked) ? asked : asked ? [asked as string] : [];
  return values.flatMap((scope) => scope.split(" ")).filter(Boolean);
}

/**
 * A fresh token of `sub` for an authenticated backend `caller`, from the token manager's cache or
 * its one refresh per user. With `audit`, a `token.handed_out` event naming the caller is
 * appended before the token is handed over (the token itself is never recorded), so a handout
 * whose record cannot be written does not happen.
 *
 * With `minValidityMs`, a token living less than that is refused (`upstream_unavailable`), even
 * one Google has just issued.
 *
 * Not async without either: a cache hit hands out the answer the manager made when the token
 * was cached (the access-token route's hot path).
 *
 * @throws StewardError from {@link TokenManager.accessToken}: `user_not_found`,
 *   `credential_revoked`, `scope_not_granted`, `client_rejected`, `upstream_unavailable`,
 *   `credential_busy`.
 */
export function handOutToken(
  deps: TokenHandoutDependencies,
  caller: Caller,
  sub: string,
  options: { scopes: readonly string[]; minValidityMs?: number; audit?: HandoutAudit },
): Promise<AccessToken> {
  const { audit, minValidityMs } = options;
  const token = deps.tokens.accessToken(sub, {
    scopes: options.scopes,
    ...(minValidityMs === undefined ? {} : { minValidityMs }),
  });
  if (audit === undefined && minValidityMs === undefined) return token;
  return token.then(async (value) => {
    // The manager hands out a token Google has just issued whatever its life; one living less
    // than asked for is not handed out (Google's live an hour: this is an upstream fault).
    const livesMs = value.expiresAt.getTime() - (deps.now ?? Date.now)();
    if (minValidityMs !== undefined && livesMs < minValidityMs) {
      throw new StewardError("upstream_unavailable", {
        detail: `Google issued a token living ${Math.round(livesMs / 1000)} s, under ${minValidityMs / 1000} s`,
      });
    }
    if (audit === undefined) return value;
    await deps.store.appendAuditEvent({
      type: "token.handed_out",
      sub,
      actor: caller.id,
      data: { ...audit, scopes: [...value.scopes] },
    });
    return value;
  });
}
