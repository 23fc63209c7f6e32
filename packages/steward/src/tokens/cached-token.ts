import { canonicalScope } from "../shared/index.js";
import type { Credential } from "../store/index.js";

export interface AccessToken {
  readonly token: string;
  readonly expiresAt: Date;
  /** Every scope of the grant (a Google access token carries them all). */
  readonly scopes: readonly string[];
}

/** A cached token, with what a hit needs ready: its expiry in ms and an answer already made. */
export interface Cached {
  readonly value: AccessToken;
  readonly expiresAtMs: number;
  /** From then on a hit refreshes ahead of expiry, in the background. */
  readonly refreshAheadAtMs: number;
  readonly canonicalScopes: ReadonlySet<string>;
  /** `value`, resolved once: a hit hands this out, creating nothing. */
  readonly answer: Promise<AccessToken>;
}

export function cached(
  token: string,
  expiresAt: Date,
  scopes: readonly string[],
  timing: { readonly issuedAtMs: number; readonly refreshAheadMs: number },
): Cached {
  const value: AccessToken = Object.freeze({
    token,
    expiresAt,
    scopes: Object.freeze([...scopes]),
  });
  const expiresAtMs = expiresAt.getTime();
  // A token living less than the window would be refreshed on every hit: at most half its life.
  const aheadMs = Math.max(
    0,
    Math.min(timing.refreshAheadMs, (expiresAtMs - timing.issuedAtMs) / 2),
  );
  return {
    value,
    expiresAtMs,
    refreshAheadAtMs: expiresAtMs - aheadMs,
    canonicalScopes: new Set(scopes.map(canonicalScope)),
    answer: Promise.resolve(value),
  };
}

/**
 * The stored access token, when it serves for `minValidityMs` and is not due to be refreshed
 * ahead. Its life runs from the last refresh: a token stored by another instance a moment ago
 * is reused even when it lives less than the refresh-ahead window. A token of unknown age (from
 * the sign-in) is due once the window is reached.
 */
export function freshStoredToken(
  credential: Credential,
  rules: {
    readonly nowMs: number;
    readonly minValidityMs: number;
    readonly refreshAheadMs: number;
  },
): Cached | undefined {
  const { accessToken, accessTokenExpiresAt: expiresAt, lastRefreshAt } = credential;
  if (accessToken === null || expiresAt === null) return undefined;
  if (expiresAt.getTime() - rules.nowMs < rules.minValidityMs) return undefined;
  const token = cached(accessToken, expiresAt, credential.grantedScopes, {
    issuedAtMs: lastRefreshAt?.getTime() ?? Number.NEGATIVE_INFINITY,
    refreshAheadMs: rules.refreshAheadMs,
  });
  return rules.nowMs < token.refreshAheadAtMs ? token : undefined;
}

export function missingScopes(token: Cached, scopes: readonly string[]): string[] {
  return scopes.filter((scope) => !token.canonicalScopes.has(canonicalScope(scope)));
}
