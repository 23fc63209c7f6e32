import pLimit, { type LimitFunction } from "p-limit";
import { isGrantGone, isStewardError, StewardError } from "../errors.js";
import type { EventBus, StewardEventName, StewardEvents } from "../events/bus.js";
import type { OAuthClient } from "../oauth/client.js";
import { refreshTokenGrant } from "../oauth/grants.js";
import { canonicalScope } from "../shared/index.js";
import type { Credential, CredentialBatch, CredentialOutcome, VaultStore } from "../store/index.js";
import { isStorableSub } from "../store/index.js";
import { looksLikeTestingModeExpiry, TESTING_MODE_EXPIRY } from "./grant-expiry.js";
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

/** A cached token, with what a hit needs ready: its expiry in ms and an answer already made. */
interface Cached {
  readonly value: AccessToken;
  readonly expiresAtMs: number;
  /** From then on a hit refreshes ahead of expiry, in the background. */
  readonly refreshAheadAtMs: number;
  readonly canonicalScopes: ReadonlySet<string>;
  /** `value`, resolved once: a hit hands this out, creating nothing. */
  readonly answer: Promise<AccessToken>;
}

/** One user's refresh, asked for and waiting for its batch. */
interface RefreshRequest {
  readonly sub: string;
  readonly minValidityMs: number;
  readonly rejectedToken: string | undefined;
  readonly resolve: (token: Cached) => void;
  readonly reject: (error: unknown) => void;
}

/** What a refresh under the lock comes to: what to store, and the token or the error. */
type Decision =
  | { readonly outcome: CredentialOutcome; readonly token: Cached }
  | { readonly outcome: CredentialOutcome; readonly token?: undefined; readonly error: unknown };

const DEFAULT_MIN_VALIDITY_MS = 60_000;
/** Users refreshed together under one connection's locks, at most. */
export const MAX_REFRESH_BATCH = 500;

type Notice = {
  [E in StewardEventName]: { event: E; payload: StewardEvents[E] };
}[StewardEventName];

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
  private readonly inflight = new Map<string, Promise<Cached>>();
  /** Users forgotten while their refresh was in flight: that refresh must not cache its token. */
  private readonly forgottenInFlight = new Set<string>();
  private queued: RefreshRequest[] = [];
  private readonly refreshAheadMs: number;
  private readonly now: () => number;
  private readonly atGoogle: LimitFunction;

  constructor(private readonly options: TokenManagerOptions) {
    this.cache = new LruCache(options.cacheSize ?? 10_000);
    this.atGoogle = pLimit(options.maxConcurrentRefreshes ?? 64);
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
    if (this.inflight.has(sub)) this.forgottenInFlight.add(sub);
  }

  /**
   * Forgets every cached token, when news of revocations may have been missed (the `LISTEN`
   * connection of `openCore` was lost): the next call for each user reads its credential again.
   */
  forgetAll(): void {
    this.cache.clear();
    for (const sub of this.inflight.keys()) this.forgottenInFlight.add(sub);
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
    if (!this.inflight.has(sub)) return refresh();
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

  /** One refresh per user at a time in this process: every caller shares the promise. */
  private refreshOnce(sub: string, minValidityMs: number, rejectedToken?: string): Promise<Cached> {
    let pending = this.inflight.get(sub);
    if (pending === undefined) {
      pending = new Promise<Cached>((resolve, reject) => {
        if (this.queued.length === 0) setImmediate(() => this.refreshQueued());
        this.queued.push({ sub, minValidityMs, rejectedToken, resolve, reject });
      }).finally(() => {
        this.inflight.delete(sub);
        this.forgottenInFlight.delete(sub);
      });
      this.inflight.set(sub, pending);
    }
    return pending;
  }

  /** Refreshes the users queued in this turn of the event loop, in batches. */
  private refreshQueued(): void {
    const requests = this.queued;
    this.queued = [];
    for (let start = 0; start < requests.length; start += MAX_REFRESH_BATCH) {
      void this.refreshBatch(requests.slice(start, start + MAX_REFRESH_BATCH), false);
    }
  }

  /**
   * Locks the batch's users, reads them again and refreshes those whose stored token will not
   * do. Users another instance holds are asked for again as one waiting batch: once that
   * instance lets them go it has usually stored tokens this one reuses. Settles every request;
   * never rejects.
   */
  private async refreshBatch(requests: readonly RefreshRequest[], wait: boolean): Promise<void> {
    const bySub = new Map(requests.map((request) => [request.sub, request]));
    const handedOver = new Set<string>();
    try {
      await this.options.store.withCredentialBatch(
        [...bySub.keys()],
        async (batch) => {
          if (batch.busy.length > 0) {
            for (const sub of batch.busy) handedOver.add(sub);
            void this.refreshBatch(
              batch.busy.map((sub) => bySub.get(sub) as RefreshRequest),
              true,
            );
          }
          await Promise.all(
            batch.locked.map((sub) => this.refreshHeld(batch, bySub.get(sub) as RefreshRequest)),
          );
        },
        { wait },
      );
    } catch (error) {
      // The lock or the read failed: no request of the batch was answered (a second answer
      // to a request is ignored, so this is safe after answers too).
      for (const request of requests) if (!handedOver.has(request.sub)) request.reject(error);
    }
  }

  /** Refreshes one locked user, stores the outcome, then answers and tells listeners. */
  private async refreshHeld(batch: CredentialBatch, request: RefreshRequest): Promise<void> {
    // Events wait until the lock is released and the cache is set, so a handler that asks
    // for the token again sees the new one.
    const notices: Notice[] = [];
    try {
      const decision = await this.decide(batch, request, notices);
      const { outcome } = decision;
      // The events go with the write, so a webhook is queued with the change it reports.
      const written = await batch.settle(
        request.sub,
        outcome.kind === "unchanged" || notices.length === 0
          ? outcome
          : { ...outcome, events: notices },
      );
      if (!written && (outcome.kind === "refreshed" || outcome.kind === "revoked")) {
        // Revoked (or deleted) while Google answered: a new token is void, and whoever revoked
        // it has announced the revocation already.
        notices.length = 0;
        this.answer(request, {
          error: new StewardError("credential_revoked", {
            detail: `sub ${request.sub}: revoked during its refresh`,
          }),
        });
      } else {
        this.answer(request, decision);
      }
    } catch (error) {
      request.reject(error);
    } finally {
      for (const notice of notices) this.options.events.emit(notice.event, notice.payload as never);
    }
  }

  private answer(
    request: RefreshRequest,
    decision: { readonly token: Cached } | { readonly token?: undefined; readonly error: unknown },
  ): void {
    const { sub } = request;
    if (decision.token !== undefined) {
      if (!this.forgottenInFlight.has(sub)) this.cache.set(sub, decision.token);
      request.resolve(decision.token);
      return;
    }
    // Other callers must not keep getting a dead grant's token from the cache.
    const { error } = decision;
    if (isGrantGone(error)) {
      this.cache.delete(sub);
    }
    request.reject(error);
  }

  private async decide(
    batch: CredentialBatch,
    request: RefreshRequest,
    notices: Notice[],
  ): Promise<Decision> {
    const unchanged = { kind: "unchanged" } as const;
    let credential: Credential;
    try {
      credential = usable(request.sub, batch.credential(request.sub));
    } catch (error) {
      return { outcome: unchanged, error };
    }
    // Read again after the lock: another instance may have refreshed while we waited.
    const stored = freshStoredToken(credential, {
      nowMs: this.now(),
      minValidityMs: request.minValidityMs,
      refreshAheadMs: this.refreshAheadMs,
    });
    if (stored !== undefined && stored.value.token !== request.rejectedToken) {
      return { outcome: unchanged, token: stored };
    }
    return this.refreshAtGoogle(credential, notices);
  }

  private async refreshAtGoogle(credential: Credential, notices: Notice[]): Promise<Decision> {
    const { sub } = credential;
    const { oauth } = this.options;
    let result: Awaited<ReturnType<typeof refreshTokenGrant>>;
    try {
      result = await this.atGoogle(() =>
        withRetries(
          () => refreshTokenGrant(oauth, credential.refreshToken as string, this.now),
          this.options.retry ?? DEFAULT_RETRY,
        ),
      );
    } catch (error) {
      if (isStewardError(error, "invalid_grant")) {
        // Same reason as ever (receivers match on it); the likely cause rides along when known.
        const cause = looksLikeTestingModeExpiry(credential.createdAt, this.now())
          ? { likelyCause: TESTING_MODE_EXPIRY }
          : {};
        if (cause.likelyCause) {
          this.options.logger?.warn(
            { sub, likelyCause: cause.likelyCause },
            "a grant died seven days after it was stored: is the OAuth consent screen still in Testing? Publish the app",
          );
        }
        notices.push({
          event: "credential.revoked",
          payload: { sub, reason: "invalid_grant", ...cause },
        });
        return {
          // Recorded like any other revocation, in the transaction that marks it.
          outcome: {
            kind: "revoked",
            reason: "invalid_grant",
            audit: {
              type: "credential.revoked",
              actor: "system",
              data: { reason: "invalid_grant", discoveredBy: "refresh", ...cause },
            },
          },
          error: new StewardError("credential_revoked", {
            detail: `sub ${sub}: Google answered invalid_grant`,
            cause: error,
          }),
        };
      }
      const code = isStewardError(error) ? error.code : "internal_error";
      if (code === "client_rejected") {
        this.options.logger?.error(
          { sub, code },
          "Google rejected our OAuth client: check the client ID and secret",
        );
        notices.push({ event: "config.client_rejected", payload: { sub, reason: code } });
      }
      return { outcome: { kind: "failed", reasonCode: code }, error };
    }
    const issuedAtMs = this.now();
    const grantedScopes = result.scopes.length > 0 ? result.scopes : [...credential.grantedScopes];
    notices.push({ event: "credential.refreshed", payload: { sub, expiresAt: result.expiresAt } });
    const added = grantedScopes.filter((scope) => !credential.grantedScopes.includes(scope));
    const removed = credential.grantedScopes.filter((scope) => !grantedScopes.includes(scope));
    if (added.length > 0 || removed.length > 0) {
      notices.push({ event: "credential.scopes_changed", payload: { sub, added, removed } });
    }
    return {
      outcome: {
        kind: "refreshed",
        result: {
          accessToken: result.accessToken,
          expiresAt: result.expiresAt,
          // A provider that rotates refresh tokens voids the old one.
          refreshToken: result.refreshToken,
          grantedScopes,
          refreshedAt: new Date(issuedAtMs),
        },
      },
      token: cached(result.accessToken, result.expiresAt, grantedScopes, {
        issuedAtMs,
        refreshAheadMs: this.refreshAheadMs,
      }),
    };
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

/**
 * The stored access token, when it serves for `minValidityMs` and is not due to be refreshed
 * ahead. Its life runs from the last refresh: a token stored by another instance a moment ago
 * is reused even when it lives less than the refresh-ahead window. A token of unknown age (from
 * the sign-in) is due once the window is reached.
 */
function freshStoredToken(
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

function cached(
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

function missingScopes(token: Cached, scopes: readonly string[]): string[] {
  return scopes.filter((scope) => !token.canonicalScopes.has(canonicalScope(scope)));
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
