import { isStewardError, StewardError } from "../errors.js";
import type { EventBus } from "../events/bus.js";
import type { OAuthClient } from "../oauth/client.js";
import type { VaultStore } from "../store/index.js";
import { isStorableSub } from "../store/index.js";
import { type AccessToken, type Cached, missingScopes } from "./cached-token.js";
import { LruCache } from "./lru.js";
import { RefreshCoordinator } from "./refresh-coordinator.js";
import type { RetryPolicy } from "./retry.js";

export type { AccessToken } from "./cached-token.js";
export { MAX_REFRESH_BATCH } from "./refresh-coordinator.js";

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

export interface TokenManagerOptions {
  store: VaultStore;
  oauth: OAuthClient;
  events: EventBus;
  /** Users whose token stays cached in memory. Default 10 000. */
  cacheSize?: number;
  /**
   * Refresh grants in flight at Google at once, at most; more wait their turn. Default 64:
   * a storm of expired users reuses a few kept-alive connections instead of opening one each.
   */
  maxConcurrentRefreshes?: number;
  /** Refresh when less than this remains, on the next access. Default 300 000 ms (5 minutes). */
  refreshAheadMs?: number;
  retry?: RetryPolicy;
  now?: () => number;
  logger?: {
    warn(fields: object, message: string): void;
    error(fields: object, message: string): void;
  };
}

const DEFAULT_MIN_VALIDITY_MS = 60_000;

/**
 * Hands out fresh access tokens for users who are not there.
 *
 * A cache hit costs a map lookup and hands out an answer made when the token was cached. A
 * miss, or a token near expiry, refreshes once per user: in this process every caller shares
 * one promise; across processes the store's per-user lock is taken and the credential is read
 * again, so a token another instance just refreshed (stored sealed) is reused instead of
 * refreshed twice. Misses of one turn of the event loop are refreshed as a batch: one lock
 * statement, one read and group-committed writes for them all, so a storm of expired users costs
 * the database a few statements rather than four per user. Transient faults of the token
 * endpoint are retried with jittered backoff; `invalid_grant` marks the credential revoked.
 */
export class TokenManager {
  private readonly cache: LruCache<string, Cached>;
  private readonly coordinator: RefreshCoordinator;
  private readonly now: () => number;

  constructor(private readonly options: TokenManagerOptions) {
    this.cache = new LruCache(options.cacheSize ?? 10_000);
    this.now = options.now ?? Date.now;
    this.coordinator = new RefreshCoordinator({
      store: options.store,
      oauth: options.oauth,
      events: options.events,
      maxConcurrentRefreshes: options.maxConcurrentRefreshes,
      refreshAheadMs: options.refreshAheadMs ?? 300_000,
      retry: options.retry,
      now: this.now,
      logger: options.logger,
      keep: (sub, token) => this.cache.set(sub, token),
      drop: (sub) => this.cache.delete(sub),
    });
  }

  /**
   * A token for `sub` valid for at least `minValidityMs`.
   *
   * @throws StewardError `user_not_found` (no credential), `credential_revoked` (the grant is
   *   dead: revoked, expired or disconnected), `scope_not_granted`, `client_rejected`,
   *   `upstream_unavailable` (after bounded retries), `credential_busy`.
   */
  accessToken(sub: string, options?: AccessTokenOptions): Promise<AccessToken> {
    // Not async: a hit returns the answer made when the token was cached.
    const minValidityMs = options?.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
    const cached = this.cache.get(sub);
    if (cached !== undefined && cached.value.token !== options?.rejectedToken) {
      const nowMs = this.now();
      // A hit lacking a scope falls through: a later sign-in may have stored a wider grant.
      if (
        cached.expiresAtMs - nowMs >= minValidityMs &&
        (options?.scopes === undefined || missingScopes(cached, options.scopes).length === 0)
      ) {
        if (nowMs >= cached.refreshAheadAtMs) this.refreshInBackground(sub);
        return cached.answer;
      }
    }
    // A sub the store cannot hold would fail the whole batch it joins; it fails alone here.
    if (!isStorableSub(sub)) {
      return Promise.reject(
        new StewardError("user_not_found", {
          detail: "sub cannot exist: empty, over 255 characters or holding NUL",
        }),
      );
    }
    return this.refreshFor(sub, minValidityMs, options?.rejectedToken).then((token) =>
      options?.scopes ? withScopes(token, options.scopes) : token.value,
    );
  }

  /**
   * Refreshes at Google now, whatever the stored token's life: the idle refresh's way of using
   * a long-unused refresh token before Google expires it. Shares a refresh under way.
   *
   * @throws StewardError as {@link accessToken}.
   */
  async refreshNow(sub: string): Promise<void> {
    if (!isStorableSub(sub))
      throw new StewardError("user_not_found", { detail: "sub cannot exist" });
    await this.refreshOnce(sub, Number.MAX_SAFE_INTEGER);
  }

  /** Forgets the cached token of `sub` (after a revocation or a delete). */
  forget(sub: string): void {
    this.cache.delete(sub);
    // A refresh under way read the credential before: its token must not come back.
    this.coordinator.forget(sub);
  }

  /**
   * Forgets every cached token, when news of revocations may have been missed (the `LISTEN`
   * connection of `openCore` was lost): the next call for each user reads its credential again.
   */
  forgetAll(): void {
    this.cache.clear();
    this.coordinator.forgetAll();
  }

  /**
   * A refresh serving this caller. Joining one under way, the caller gets what another asked
   * for: when that is the token it rejected, or too short-lived for it, it refreshes once more.
   */
  private refreshFor(
    sub: string,
    minValidityMs: number,
    rejectedToken: string | undefined,
  ): Promise<Cached> {
    const refresh = () => this.refreshOnce(sub, minValidityMs, rejectedToken);
    if (!this.coordinator.inFlight(sub)) return refresh();
    return refresh().then((token) =>
      token.value.token !== rejectedToken && token.expiresAtMs - this.now() >= minValidityMs
        ? token
        : refresh(),
    );
  }

  private refreshInBackground(sub: string): void {
    this.refreshOnce(sub, 0).catch((error: unknown) => {
      this.options.logger?.warn(
        { sub, code: isStewardError(error) ? error.code : "internal_error" },
        "refresh ahead of expiry failed",
      );
    });
  }

  private refreshOnce(sub: string, minValidityMs: number, rejectedToken?: string): Promise<Cached> {
    return this.coordinator.refresh(sub, minValidityMs, rejectedToken);
  }
}

/** The token when its grant holds every scope asked for; `scope_not_granted` otherwise. */
function withScopes(token: Cached, scopes: readonly string[]): Promise<AccessToken> {
  const missing = missingScopes(token, scopes);
  if (missing.length === 0) return token.answer;
  return Promise.reject(
    new StewardError("scope_not_granted", {
      message: `The user did not grant: ${missing.join(" ")}`,
    }),
  );
}
