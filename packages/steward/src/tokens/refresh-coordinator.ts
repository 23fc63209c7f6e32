import pLimit, { type LimitFunction } from "p-limit";
import { isGrantGone, isStewardError, StewardError } from "../errors.js";
import type { EventBus, StewardEventName, StewardEvents } from "../events/bus.js";
import type { OAuthClient } from "../oauth/client.js";
import { refreshTokenGrant } from "../oauth/grants.js";
import type {
  Credential,
  CredentialOutcome,
  CredentialsRead,
  LockedUsers,
  UserOutcome,
  VaultStore,
} from "../store/index.js";
import { type Cached, cached, freshStoredToken } from "./cached-token.js";
import { looksLikeTestingModeExpiry, TESTING_MODE_EXPIRY } from "./grant-expiry.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "./retry.js";

/** Users refreshed together under one connection's locks, at most. */
export const MAX_REFRESH_BATCH = 500;

export interface RefreshCoordinatorOptions {
  readonly store: VaultStore;
  readonly oauth: OAuthClient;
  readonly events: EventBus;
  /** Refresh grants in flight at Google at once, at most. Default 64. */
  readonly maxConcurrentRefreshes?: number | undefined;
  readonly refreshAheadMs: number;
  readonly retry?: RetryPolicy | undefined;
  readonly now: () => number;
  readonly logger?:
    | {
        warn(fields: object, message: string): void;
        error(fields: object, message: string): void;
      }
    | undefined;
  /** Keeps a token just answered (not called for a user forgotten during its refresh). */
  readonly keep: (sub: string, token: Cached) => void;
  /** Drops the kept token of a user whose grant is gone. */
  readonly drop: (sub: string) => void;
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

type Notice = {
  [E in StewardEventName]: { event: E; payload: StewardEvents[E] };
}[StewardEventName];

/**
 * The one path a refresh takes, in the order of this file: queue, lock, re-read, decide,
 * refresh, save, unlock, answer.
 *
 * - **Queue**: one refresh per user at a time in this process (every caller shares its
 *   promise); the users asked for in one turn of the event loop go as batches of up to
 *   {@link MAX_REFRESH_BATCH}.
 * - **Lock** each batch's users with the store's cross-instance lock (one statement); users
 *   another instance holds are asked for again as one waiting batch.
 * - **Re-read** them under the lock (one statement): a token another instance just stored is
 *   reused instead of refreshed twice.
 * - **Decide** per user whether the stored token serves; **refresh** at Google those it does
 *   not (at most `maxConcurrentRefreshes` grants in flight, transient faults retried).
 * - **Save** each outcome with its audit row and events, group-committed; the write releases the
 *   user's lock (**unlock**).
 * - **Answer** the callers, keep the token, then tell listeners.
 */
export class RefreshCoordinator {
  private readonly inflight = new Map<string, Promise<Cached>>();
  /** Users forgotten while their refresh was in flight: that refresh must not keep its token. */
  private readonly forgottenInFlight = new Set<string>();
  private queued: RefreshRequest[] = [];
  private readonly atGoogle: LimitFunction;

  constructor(private readonly options: RefreshCoordinatorOptions) {
    this.atGoogle = pLimit(options.maxConcurrentRefreshes ?? 64);
  }

  /** Whether a refresh of `sub` is under way in this process. */
  inFlight(sub: string): boolean {
    return this.inflight.has(sub);
  }

  /** A refresh under way for `sub` must not keep the token it read before. */
  forget(sub: string): void {
    if (this.inflight.has(sub)) this.forgottenInFlight.add(sub);
  }

  forgetAll(): void {
    for (const sub of this.inflight.keys()) this.forgottenInFlight.add(sub);
  }

  // --- Queue ---------------------------------------------------------------------------------

  /** One refresh per user at a time in this process: every caller shares the promise. */
  refresh(sub: string, minValidityMs: number, rejectedToken?: string): Promise<Cached> {
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

  // --- Lock, re-read -------------------------------------------------------------------------

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
      await this.options.store.withLockedUsers(
        [...bySub.keys()],
        async (held) => {
          if (held.busy.length > 0) {
            for (const sub of held.busy) handedOver.add(sub);
            void this.refreshBatch(
              held.busy.map((sub) => bySub.get(sub) as RefreshRequest),
              true,
            );
          }
          if (held.locked.length === 0) return;
          const read = await held.read();
          const save = groupCommit(held);
          await Promise.all(
            held.locked.map((sub) =>
              this.refreshHeld(read, save, bySub.get(sub) as RefreshRequest),
            ),
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

  /** Decides and refreshes one locked user, saves the outcome, then answers and tells listeners. */
  private async refreshHeld(
    read: CredentialsRead,
    save: Save,
    request: RefreshRequest,
  ): Promise<void> {
    // Events wait until the lock is released and the token kept, so a handler that asks
    // for the token again sees the new one.
    const notices: Notice[] = [];
    try {
      const decision = await this.decide(read, request, notices);
      const { outcome } = decision;
      // The events go with the write, so a webhook is queued with the change it reports.
      const written = await save(
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

  // --- Decide --------------------------------------------------------------------------------

  private async decide(
    read: CredentialsRead,
    request: RefreshRequest,
    notices: Notice[],
  ): Promise<Decision> {
    const unchanged = { kind: "unchanged" } as const;
    let credential: Credential;
    try {
      credential = usable(request.sub, read.credential(request.sub));
    } catch (error) {
      return { outcome: unchanged, error };
    }
    // Read again after the lock: another instance may have refreshed while we waited.
    const stored = freshStoredToken(credential, {
      nowMs: this.options.now(),
      minValidityMs: request.minValidityMs,
      refreshAheadMs: this.options.refreshAheadMs,
    });
    if (stored !== undefined && stored.value.token !== request.rejectedToken) {
      return { outcome: unchanged, token: stored };
    }
    return this.refreshAtGoogle(credential, notices);
  }

  // --- Refresh -------------------------------------------------------------------------------

  private async refreshAtGoogle(credential: Credential, notices: Notice[]): Promise<Decision> {
    const { sub } = credential;
    const { oauth, now } = this.options;
    let result: Awaited<ReturnType<typeof refreshTokenGrant>>;
    try {
      result = await this.atGoogle(() =>
        withRetries(
          () => refreshTokenGrant(oauth, credential.refreshToken as string, now),
          this.options.retry ?? DEFAULT_RETRY,
        ),
      );
    } catch (error) {
      return this.refreshFailed(credential, error, notices);
    }
    const issuedAtMs = now();
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
        refreshAheadMs: this.options.refreshAheadMs,
      }),
    };
  }

  /** `invalid_grant` revokes the credential; any other failure records its reason code. */
  private refreshFailed(credential: Credential, error: unknown, notices: Notice[]): Decision {
    const { sub } = credential;
    const { logger } = this.options;
    if (isStewardError(error, "invalid_grant")) {
      // Same reason as ever (receivers match on it); the likely cause rides along when known.
      const cause = looksLikeTestingModeExpiry(credential.createdAt, this.options.now())
        ? { likelyCause: TESTING_MODE_EXPIRY }
        : {};
      if (cause.likelyCause) {
        logger?.warn(
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
      logger?.error(
        { sub, code },
        "Google rejected our OAuth client: check the client ID and secret",
      );
      notices.push({ event: "config.client_rejected", payload: { sub, reason: code } });
    }
    return { outcome: { kind: "failed", reasonCode: code }, error };
  }

  // --- Answer --------------------------------------------------------------------------------

  private answer(
    request: RefreshRequest,
    decision: { readonly token: Cached } | { readonly token?: undefined; readonly error: unknown },
  ): void {
    const { sub } = request;
    if (decision.token !== undefined) {
      if (!this.forgottenInFlight.has(sub)) this.options.keep(sub, decision.token);
      request.resolve(decision.token);
      return;
    }
    // Other callers must not keep getting a dead grant's token from the cache.
    const { error } = decision;
    if (isGrantGone(error)) this.options.drop(sub);
    request.reject(error);
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

// --- Save, unlock ------------------------------------------------------------------------------

/** Writes one locked user's outcome, then releases their lock; tells whether the row changed. */
type Save = (sub: string, outcome: CredentialOutcome) => Promise<boolean>;

interface Pending extends UserOutcome {
  readonly resolve: (changed: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Saves outcomes as they come (a group commit): those saved while an earlier write is under way
 * are written together, in one transaction (one statement for each kind of outcome, with their
 * audit rows, events and notifications), then unlocked in one statement. A thousand users
 * refreshed at once cost a handful of statements.
 */
function groupCommit(held: LockedUsers): Save {
  let queue: Pending[] = [];
  let draining = false;
  const drain = async (): Promise<void> => {
    // Let the outcomes saved in this same turn join the first group.
    await Promise.resolve();
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      let failure: unknown;
      let changed = new Set<string>();
      try {
        changed = await held.write(group.map(({ sub, outcome }) => ({ sub, outcome })));
      } catch (error) {
        failure = error;
      }
      try {
        await held.unlock(group.map(({ sub }) => sub));
      } catch (error) {
        failure ??= error;
      }
      for (const pending of group) {
        if (failure === undefined) pending.resolve(changed.has(pending.sub));
        else pending.reject(failure);
      }
    }
    draining = false;
  };
  return (sub, outcome) =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ sub, outcome, resolve, reject });
      if (!draining) {
        draining = true;
        // Never rejects: each write's failure goes to its own group's callers.
        void drain();
      }
    });
}
