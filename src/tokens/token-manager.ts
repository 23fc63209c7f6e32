import type * as oidc from "openid-client";
import { isStewardError, StewardError } from "../errors.js";
import type { EventBus, StewardEventName, StewardEvents } from "../events/bus.js";
import { refreshTokenGrant } from "../oauth/grants.js";
import { canonicalScope } from "../signin/scopes.js";
import type { Credential, CredentialLock, VaultStore } from "../vault/store.js";
import { LruCache } from "./lru.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "./retry.js";

export interface AccessTokenOptions {
  /** Scopes the caller needs; `scope_not_granted` when the grant lacks one. */
  scopes?: readonly string[];
  /** The token handed out stays valid at least this long. Default 60 000 ms. */
  minValidityMs?: number;
  /**
   * A token Google just refused (a 401 on an API call): never hand it out again, refresh
   * instead, even though its expiry says it is valid.
   */
  rejectedToken?: string;
}

export interface AccessToken {
  readonly token: string;
  readonly expiresAt: Date;
  /** Every scope of the grant (a Google access token carries them all). */
  readonly scopes: readonly string[];
}

export interface TokenManagerOptions {
  store: VaultStore;
  oauth: oidc.Configuration;
  events: EventBus;
  /** Users whose token stays cached in memory. Default 10 000. */
  cacheSize?: number;
  /** Refresh when less than this remains, on the next access. Default 300 000 ms (5 minutes). */
  refreshAheadMs?: number;
  retry?: RetryPolicy;
  now?: () => number;
  logger?: {
    warn(fields: object, message: string): void;
    error(fields: object, message: string): void;
  };
}

interface Cached extends AccessToken {
  readonly expiresAtMs: number;
  readonly canonicalScopes: ReadonlySet<string>;
}

const DEFAULT_MIN_VALIDITY_MS = 60_000;

type Notice = {
  [E in StewardEventName]: { event: E; payload: StewardEvents[E] };
}[StewardEventName];

/**
 * Hands out fresh access tokens for users who are not there.
 *
 * A cache hit costs a map lookup. A miss, or a token near expiry, refreshes once per user: in
 * this process every caller shares one promise; across processes the store's per-user lock is
 * taken and the credential is read again, so a token another instance just refreshed (stored
 * sealed) is reused instead of refreshed twice. Transient faults of the token endpoint are
 * retried with jittered backoff; `invalid_grant` marks the credential revoked for good.
 */
export class TokenManager {
  private readonly cache: LruCache<string, Cached>;
  private readonly inflight = new Map<string, Promise<Cached>>();
  private readonly refreshAheadMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenManagerOptions) {
    this.cache = new LruCache(options.cacheSize ?? 10_000);
    this.refreshAheadMs = options.refreshAheadMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * A token for `sub` valid for at least `minValidityMs`.
   *
   * @throws StewardError `user_not_found` (no credential), `credential_revoked` (the grant is
   *   dead: revoked, expired or disconnected), `scope_not_granted`, `client_rejected`,
   *   `upstream_unavailable` (after bounded retries), `credential_busy`.
   */
  async accessToken(sub: string, options: AccessTokenOptions = {}): Promise<AccessToken> {
    const minValidityMs = options.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
    const cached = this.cache.get(sub);
    const now = this.now();
    let token: Cached;
    if (
      cached !== undefined &&
      cached.expiresAtMs - now >= minValidityMs &&
      cached.token !== options.rejectedToken
    ) {
      token = cached;
      if (cached.expiresAtMs - now < this.refreshAheadMs) this.refreshInBackground(sub);
    } else {
      token = await this.refreshOnce(sub, minValidityMs, options.rejectedToken);
    }
    if (options.scopes) requireScopes(token, options.scopes);
    return token;
  }

  /** Forgets the cached token of `sub` (after a revocation or a delete). */
  forget(sub: string): void {
    this.cache.delete(sub);
  }

  private refreshInBackground(sub: string): void {
    this.refreshOnce(sub, 0).catch((error: unknown) => {
      this.options.logger?.warn(
        { sub, code: isStewardError(error) ? error.code : "internal_error" },
        "refresh ahead of expiry failed",
      );
    });
  }

  /** One refresh per user at a time in this process: every caller shares the promise. */
  private refreshOnce(sub: string, minValidityMs: number, rejectedToken?: string): Promise<Cached> {
    let pending = this.inflight.get(sub);
    if (pending === undefined) {
      pending = this.refreshLocked(sub, minValidityMs, rejectedToken).finally(() =>
        this.inflight.delete(sub),
      );
      this.inflight.set(sub, pending);
    }
    return pending;
  }

  private async refreshLocked(
    sub: string,
    minValidityMs: number,
    rejectedToken?: string,
  ): Promise<Cached> {
    // Events wait until the lock is released and the cache is set, so a handler that asks
    // for the token again sees the new one.
    const notices: Notice[] = [];
    try {
      const token = await this.options.store.withCredentialLock(sub, async (locked) => {
        const credential = usable(sub, locked.credential);
        // Read again after the lock: another instance may have refreshed while we waited.
        const stored = freshStoredToken(
          credential,
          this.now(),
          Math.max(minValidityMs, this.refreshAheadMs),
        );
        const reusable = stored !== undefined && stored.token !== rejectedToken;
        return reusable ? stored : await this.refreshAtGoogle(locked, credential, notices);
      });
      this.cache.set(sub, token);
      return token;
    } finally {
      for (const notice of notices) this.options.events.emit(notice.event, notice.payload as never);
    }
  }

  private async refreshAtGoogle(
    locked: CredentialLock,
    credential: Credential,
    notices: Notice[],
  ): Promise<Cached> {
    const { sub } = credential;
    const { oauth } = this.options;
    let result: Awaited<ReturnType<typeof refreshTokenGrant>>;
    try {
      result = await withRetries(
        () => refreshTokenGrant(oauth, credential.refreshToken as string, this.now),
        this.options.retry ?? DEFAULT_RETRY,
      );
    } catch (error) {
      if (isStewardError(error, "invalid_grant")) {
        await locked.markRevoked("invalid_grant");
        notices.push({ event: "credential.revoked", payload: { sub, reason: "invalid_grant" } });
        throw new StewardError("credential_revoked", {
          detail: `sub ${sub}: Google answered invalid_grant`,
          cause: error,
        });
      }
      const code = isStewardError(error) ? error.code : "internal_error";
      await locked.recordError(code);
      if (code === "client_rejected") {
        this.options.logger?.error(
          { sub, code },
          "Google rejected our OAuth client: check the client ID and secret",
        );
        notices.push({ event: "config.client_rejected", payload: { sub, reason: code } });
      }
      throw error;
    }
    const grantedScopes = result.scopes.length > 0 ? result.scopes : [...credential.grantedScopes];
    await locked.recordRefresh({
      accessToken: result.accessToken,
      expiresAt: result.expiresAt,
      grantedScopes,
    });
    notices.push({ event: "credential.refreshed", payload: { sub, expiresAt: result.expiresAt } });
    const added = grantedScopes.filter((scope) => !credential.grantedScopes.includes(scope));
    const removed = credential.grantedScopes.filter((scope) => !grantedScopes.includes(scope));
    if (added.length > 0 || removed.length > 0) {
      notices.push({ event: "credential.scopes_changed", payload: { sub, added, removed } });
    }
    return cached(result.accessToken, result.expiresAt, grantedScopes);
  }
}

function usable(sub: string, credential: Credential | undefined): Credential {
  if (credential === undefined)
    throw new StewardError("user_not_found", { detail: `no credential for sub ${sub}` });
  if (credential.status !== "active" || credential.refreshToken === null) {
    throw new StewardError("credential_revoked", {
      detail: `sub ${sub}: ${credential.status} (${credential.revokedReason ?? "no refresh token"})`,
    });
  }
  return credential;
}

function freshStoredToken(
  credential: Credential,
  now: number,
  neededMs: number,
): Cached | undefined {
  const expiresAt = credential.accessTokenExpiresAt;
  if (credential.accessToken === null || expiresAt === null || expiresAt.getTime() - now < neededMs)
    return undefined;
  return cached(credential.accessToken, expiresAt, credential.grantedScopes);
}

function cached(token: string, expiresAt: Date, scopes: readonly string[]): Cached {
  return {
    token,
    expiresAt,
    scopes,
    expiresAtMs: expiresAt.getTime(),
    canonicalScopes: new Set(scopes.map(canonicalScope)),
  };
}

function requireScopes(token: Cached, scopes: readonly string[]): void {
  const missing = scopes.filter((scope) => !token.canonicalScopes.has(canonicalScope(scope)));
  if (missing.length > 0) {
    throw new StewardError("scope_not_granted", {
      message: `The user did not grant: ${missing.join(" ")}`,
    });
  }
}
