/**
 * The vault's storage contract: users, their sealed Google credential, and the audit trail.
 *
 * Written once, over the type of a token: {@link SealedStore} (`Token` = {@link SealedToken}) is
 * what an adapter implements, holding and passing only ciphertext ({@link PostgresStore}, and an
 * in-memory one in the tests); {@link VaultStore} (`Token` = string) is what the rest of Steward
 * uses, the sealing store of `src/vault` that seals tokens before they reach an adapter and opens
 * them on the way out. `test/vault/support/store-contract.ts` is the suite every adapter passes,
 * under the sealing store (`test/vault/store.test.ts` for PostgreSQL, `memory-store.test.ts`). Tokens cross this interface only in the fields typed `Token`.
 */

/**
 * A token as an adapter holds it: an envelope sealed above the store (`src/crypto`), bound to its
 * user and field, and the kid of the key that sealed it.
 */
export interface SealedToken {
  readonly sealed: Buffer;
  /** Null only in a damaged row: opening it fails as `credential_corrupt`. */
  readonly kid: string | null;
}

/** `active` can be refreshed; `revoked` and `expired` hold no tokens any more. */
export type CredentialStatus = "active" | "revoked" | "expired";

/**
 * Profile claims of a Google ID token, keyed by `sub`. On upsert, a field left `undefined`
 * keeps its stored value and `null` clears it.
 */
export interface UserProfile {
  readonly sub: string;
  readonly email?: string | null;
  readonly emailVerified?: boolean | null;
  readonly name?: string | null;
  readonly picture?: string | null;
  readonly locale?: string | null;
  readonly givenName?: string | null;
  readonly familyName?: string | null;
  /** Hosted domain of a Google Workspace account. */
  readonly hd?: string | null;
}

export interface User {
  readonly sub: string;
  readonly email: string | null;
  readonly emailVerified: boolean | null;
  readonly name: string | null;
  readonly picture: string | null;
  readonly locale: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly hd: string | null;
  /** Set while Google says the account is disabled (a RISC `account-disabled` event). */
  readonly accountDisabled: AccountDisabled | null;
  /** Sign-ins recorded for this user (`recordSignIn`). */
  readonly signIns: number;
  /** Of those, the ones that brought a new refresh token. */
  readonly refreshTokenSignIns: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Google disabled the user's account: when we heard, and why (`hijacking`, `bulk-account`). */
export interface AccountDisabled {
  readonly at: Date;
  /** As Google gave it; null when it gave none. */
  readonly reason: string | null;
}

/** What is known about a user's credential, without any secret. */
export interface CredentialInfo {
  readonly sub: string;
  readonly status: CredentialStatus;
  readonly grantedScopes: readonly string[];
  /** Whether a sealed refresh token is stored (always true while `active`). */
  readonly hasRefreshToken: boolean;
  /** The kid sealing the refresh token, or null when none is stored. */
  readonly kid: string | null;
  /** Expiry of the stored access token, or null when none is stored. */
  readonly accessTokenExpiresAt: Date | null;
  /** A reason code such as `invalid_grant`, set when revoked or expired. */
  readonly revokedReason: string | null;
  readonly lastRefreshAt: Date | null;
  /** The reason code of the last failed refresh, cleared by a successful one. */
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A credential with its tokens: the info plus the tokens as `Token` (see {@link Credential}). */
export interface CredentialOf<Token> extends CredentialInfo {
  readonly refreshToken: Token | null;
  /** The stored access token, even if expired; compare `accessTokenExpiresAt` yourself. */
  readonly accessToken: Token | null;
}

/** A credential opened with the keyring: the info plus its plaintext tokens. */
export type Credential = CredentialOf<string>;
/** A credential as an adapter reads it: its tokens still sealed. */
export type SealedCredential = CredentialOf<SealedToken>;

/** A user as listed: the profile and the credential's info, if any. */
export interface UserRecord extends User {
  readonly credential: CredentialInfo | undefined;
}

export interface AccessTokenInput<Token = string> {
  readonly token: Token;
  readonly expiresAt: Date;
}

/**
 * An event announcing a change, e.g. `credential.revoked`. A store that queues events (webhooks
 * configured) writes it to the webhook outbox in the same transaction as the change, so the
 * change is never committed without it; it is left out when the write changes nothing.
 */
export interface ChangeEvent {
  readonly event: string;
  readonly payload: object;
}

export interface SaveCredentialInput<Token = string> {
  readonly sub: string;
  /** The scopes Google reports as granted; they replace the stored ones. */
  readonly grantedScopes: readonly string[];
  /**
   * The refresh token from the code exchange. Google sends none when the user granted offline
   * access before; leaving it out keeps the stored one, it is never overwritten with nothing.
   */
  readonly refreshToken?: Token | undefined;
  readonly accessToken?: AccessTokenInput<Token> | undefined;
  /** Events announcing this change; written only with a new refresh token (see {@link ChangeEvent}). */
  readonly events?: readonly ChangeEvent[] | undefined;
}

/** A completed sign-in, as {@link VaultStore.recordSignIn} commits it. */
export interface SignInRecordInput<Token = string> {
  readonly profile: UserProfile;
  /** The tokens of the code exchange, as for {@link VaultStore.saveCredential} (same `sub`). */
  readonly credential: Omit<SaveCredentialInput<Token>, "sub">;
  /** The sign-in's audit event, e.g. `user.signed_in` (for the profile's `sub`). */
  readonly audit: Omit<AuditEventInput, "sub">;
}

export interface SignInRecord {
  readonly user: User;
  /** As {@link VaultStore.saveCredential} returns it. */
  readonly credential: CredentialInfo | undefined;
}

export interface RefreshResult<Token = string> {
  readonly accessToken: Token;
  readonly expiresAt: Date;
  /** A new refresh token, when the provider rotated it. */
  readonly refreshToken?: Token | undefined;
  /** The scopes the refresh response reported, when it did. */
  readonly grantedScopes?: readonly string[] | undefined;
  /** When the refresh happened; now by default. */
  readonly refreshedAt?: Date | undefined;
}

/** The events announcing an outcome (see {@link ChangeEvent}). */
type ChangeEvents = readonly ChangeEvent[] | undefined;

/** What became of one held user's credential, written by {@link LockedUsers.write}. */
export type CredentialOutcome<Token = string> =
  /** A fresh access token (sealed on the way in); clears `lastError`. Kept only while active. */
  | {
      readonly kind: "refreshed";
      readonly result: RefreshResult<Token>;
      readonly events?: ChangeEvents;
    }
  /** A failed refresh's reason code (never a token or a response body). */
  | { readonly kind: "failed"; readonly reasonCode: string; readonly events?: ChangeEvents }
  /**
   * The grant is dead: mark the credential revoked (or expired) and erase its tokens. Only an
   * active credential changes: the first revocation keeps its reason and alone is announced.
   */
  | {
      readonly kind: "revoked";
      readonly reason: string;
      readonly status?: "revoked" | "expired";
      readonly events?: ChangeEvents;
      /** Appended to the audit log in the revocation's transaction, when it changes the row. */
      readonly audit?: Omit<AuditEventInput, "sub"> | undefined;
    }
  /** Nothing to write. */
  | { readonly kind: "unchanged" };

/** A user's outcome to write with {@link LockedUsers.write}. */
export interface UserOutcome<Token = string> {
  readonly sub: string;
  readonly outcome: CredentialOutcome<Token>;
}

/** The locked users' credentials as read after the lock was taken. */
export interface CredentialsRead<Token = string> {
  /**
   * One locked user's credential.
   *
   * @throws StewardError `credential_corrupt` or `key_missing` for that user alone.
   */
  credential(sub: string): CredentialOf<Token> | undefined;
}

/**
 * Users held under the cross-instance lock of {@link StoreOf.withLockedUsers}, on one
 * connection: the four primitives a refresh is made of (lock, read, write, unlock), each one
 * statement (or one transaction) for the whole group.
 */
export interface LockedUsers<Token = string> {
  /** The users locked here, in the order asked. */
  readonly locked: readonly string[];
  /** The users another holder had locked (only when not waiting): not held here. */
  readonly busy: readonly string[];
  /** Reads every locked user's credential, in one statement. */
  read(): Promise<CredentialsRead<Token>>;
  /**
   * Writes outcomes of locked users in one transaction, with their audit rows and events (and
   * the revocations' notifications, delivered on commit). Locks are kept.
   *
   * @returns the subs whose row changed: a refresh is kept only while the credential is active.
   * @throws TypeError for a malformed outcome or a user not held (nothing is written).
   */
  write(outcomes: readonly UserOutcome<Token>[]): Promise<Set<string>>;
  /** Releases the locks of these held users, in one statement. */
  unlock(subs: readonly string[]): Promise<void>;
}

export interface MarkRevokedOptions {
  /** Default `revoked`. */
  readonly status?: "revoked" | "expired" | undefined;
  /** Events announcing the revocation (see {@link ChangeEvent}). */
  readonly events?: readonly ChangeEvent[] | undefined;
  /** Appended to the audit log in the revocation's transaction, when it changes the row. */
  readonly audit?: Omit<AuditEventInput, "sub"> | undefined;
}

/** What a deletion writes with the erasure, in its transaction. */
export interface DeletionRecord {
  /** Appended to the audit log (for the deleted user's `sub`). */
  readonly audit?: readonly Omit<AuditEventInput, "sub">[] | undefined;
  /** Queued to the webhook outbox (see {@link ChangeEvent}). */
  readonly events?: readonly ChangeEvent[] | undefined;
}

/**
 * Runs under the user's lock before a deletion erases anything, with the credential read after
 * the lock was taken (undefined when there is none, or when no key of the ring opens it):
 * revoke at Google there what is about to be erased. A throw leaves everything as it was.
 */
export type BeforeDeletion<Token = string> = (
  credential: CredentialOf<Token> | undefined,
) => Promise<DeletionRecord>;

export interface LockOptions {
  /**
   * Wait for users another holder has locked (up to the store's lock timeout) instead of
   * reporting them as `busy`. Locks are then taken in one global order, so two waiting
   * holders cannot deadlock.
   */
  readonly wait?: boolean | undefined;
}

export interface AuditEventInput {
  /** What happened, e.g. `credential.saved`, `credential.revoked`. */
  readonly type: string;
  readonly sub?: string | undefined;
  /** Who did it: `user`, `admin`, `api_key:<id>`, `system`. */
  readonly actor?: string | undefined;
  /** Details as JSON. Never put a token, code or key here. */
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export interface AuditEvent {
  readonly id: string;
  readonly at: Date;
  readonly type: string;
  readonly sub: string | null;
  readonly actor: string | null;
  readonly data: Readonly<Record<string, unknown>>;
  /** The email of the user the event is about, as stored now; null when none or deleted. */
  readonly email?: string | null | undefined;
}

/**
 * A revocation a security event asks for. It applies only while the credential is active; its
 * audit entry and events are written only when it revoked something.
 */
export interface SecurityRevocation<Token = string> {
  readonly sub: string;
  /** A reason code, e.g. `risc_tokens_revoked`. */
  readonly reason: string;
  /**
   * For an event naming one refresh token: checked again on the row as locked in the
   * transaction, so that a grant stored after the match was found is not revoked.
   */
  readonly refreshTokenMatches?: RefreshTokenMatcher<Token> | undefined;
  readonly audit: AuditEventInput;
  readonly events?: readonly ChangeEvent[] | undefined;
}

/** Whether a user's refresh token is the one looked for (`sub` names the user). */
export type RefreshTokenMatcher<Token = string> = (refreshToken: Token, sub: string) => boolean;

/** A security event token received from Google (RISC) and what it changes. */
export interface SecurityEventRecord<Token = string> {
  /** The token's `jti`: a second record with it changes nothing. */
  readonly jti: string;
  /** The event-type URIs it carries. */
  readonly eventTypes: readonly string[];
  /** Its subject's sub, or the user whose refresh token it named; null when none. */
  readonly sub: string | null;
  readonly revocations: readonly SecurityRevocation<Token>[];
  /** Flags users as disabled by Google (with a reason), or clears the flag (`null`). */
  readonly accountStates: readonly {
    readonly sub: string;
    readonly disabled: { readonly reason: string | null } | null;
  }[];
  /** Written whatever else changes. */
  readonly audit: readonly AuditEventInput[];
  /** Queued for webhooks (when the store queues events) whatever else changes. */
  readonly events: readonly ChangeEvent[];
}

/** What recording a security event changed. */
export interface SecurityEventOutcome {
  /** Users whose active credential it revoked. */
  readonly revoked: readonly string[];
  /** Users whose disabled flag it set or cleared (existing users only). */
  readonly flagged: readonly string[];
}

export interface ListOptions {
  /** Keyset cursor: only entries after this `sub` (for users). */
  readonly after?: string | undefined;
  /** At most this many, 1 to 1000; 100 by default. */
  readonly limit?: number | undefined;
  /** Only users whose email (any case) or sub starts with this text; `%` and `_` are literal. */
  readonly search?: string | undefined;
}

/**
 * Everything the sign-in flow, the token manager and the internal API need from storage, with
 * tokens typed `Token`: plaintext strings for Steward ({@link VaultStore}), sealed envelopes
 * for an adapter ({@link SealedStore}).
 *
 * @example
 *   await store.upsertUser({ sub, email, emailVerified: true });
 *   await store.saveCredential({ sub, refreshToken, grantedScopes });
 *   const token = await store.withLockedUsers([sub], async (held) => {
 *     // read again after the lock: another instance may have refreshed already
 *     const credential = (await held.read()).credential(sub);
 *     if (credential?.accessToken && fresh(credential)) return credential.accessToken;
 *     const result = await refreshAtGoogle(credential!.refreshToken!);
 *     await held.write([{ sub, outcome: { kind: "refreshed", result } }]);
 *     return result.accessToken;
 *   }, { wait: true });
 */
export interface StoreOf<Token> {
  /** Inserts or updates a user's profile; returns the stored user. */
  upsertUser(profile: UserProfile): Promise<User>;
  getUser(sub: string): Promise<UserRecord | undefined>;
  /** Users in `sub` order, with their credential's info. */
  listUsers(options?: ListOptions): Promise<UserRecord[]>;
  /**
   * Deletes the user and their credential (audit events stay) under the user's lock, the one
   * sign-ins and refreshes take: a sign-in storing a new grant cannot slip in between what
   * `beforeDeletion` revoked and what is erased. Returns whether the user existed
   * (`beforeDeletion` is called only then).
   *
   * @throws StewardError `credential_busy` (the lock); `key_missing`; whatever `beforeDeletion`
   *   throws, leaving everything as it was.
   */
  deleteUser(sub: string, beforeDeletion?: BeforeDeletion<Token>): Promise<boolean>;
  /**
   * Records a completed sign-in in one transaction, under the user's lock: the profile upserted,
   * the tokens saved as {@link VaultStore.saveCredential} saves them (with their events), the
   * audit event appended. A crash at any instant leaves all of it or none.
   *
   * @throws StewardError `credential_busy` (the lock); `database_unavailable` when the database
   *   is out of reach (nothing is stored).
   */
  recordSignIn(input: SignInRecordInput<Token>): Promise<SignInRecord>;
  /**
   * Asks the database whether it answers now (one `SELECT 1`), before doing something that
   * cannot be undone, such as spending a sign-in code at Google.
   *
   * @throws StewardError `database_unavailable` when it does not.
   */
  ping(): Promise<void>;

  /**
   * Seals and stores a user's tokens after a code exchange, under the user's lock. With a
   * refresh token the credential becomes `active`; without one the stored refresh token is
   * kept (and nothing is stored when there is none).
   *
   * @returns the credential's info, or undefined when no refresh token is stored for the user.
   * @throws StewardError `user_not_found` when the user was not upserted first.
   */
  saveCredential(input: SaveCredentialInput<Token>): Promise<CredentialInfo | undefined>;
  /**
   * The user's credential, opened.
   *
   * @throws StewardError `credential_corrupt` when a sealed token fails authentication (logged
   *   by sub and kid); `key_missing` when it is sealed with a kid the keyring lacks.
   */
  getCredential(sub: string): Promise<CredentialOf<Token> | undefined>;
  /**
   * Marks the credential revoked (or expired) and erases its tokens; false when none exists or
   * it was no longer active (it keeps its first reason, and `options.events` are not queued).
   */
  markRevoked(sub: string, reason: string, options?: MarkRevokedOptions): Promise<boolean>;

  /**
   * Locks `subs` across instances on one connection and runs `fn` with the primitives of a
   * refresh (see {@link LockedUsers}); the locks still held when `fn` settles are released, and
   * the primitives refuse any use after that. Without `wait`, users another holder has locked
   * are reported `busy`; with it, locks are taken in one global order, so two waiting holders
   * cannot deadlock. This is the lock `saveCredential`, `recordSignIn` and `deleteUser` wait
   * for: inside `fn`, do not call them for a held user (they would wait for `fn`).
   *
   * @throws StewardError `credential_busy` when a waiting lock is not granted within the store's
   *   lock timeout (none is kept); whatever `fn` throws.
   */
  withLockedUsers<T>(
    subs: readonly string[],
    fn: (held: LockedUsers<Token>) => Promise<T>,
    options?: LockOptions,
  ): Promise<T>;

  /** Whether a security event with this `jti` was recorded. */
  hasSecurityEvent(jti: string): Promise<boolean>;
  /**
   * The users whose active credential's refresh token satisfies `matches`. Opens every active
   * credential, a page at a time (nothing derived from a token is stored to search by): meant
   * for Google's rare token-revoked events. Credentials no key opens are skipped (and logged).
   */
  findRefreshTokens(matches: RefreshTokenMatcher<Token>): Promise<string[]>;
  /**
   * Records a security event by its `jti` and makes its changes, in one transaction: the jti,
   * the revocations (announced on commit like any other), the flags, the audit entries and the
   * events commit together or not at all.
   *
   * @returns what changed, or undefined when the jti was recorded before (nothing is changed).
   */
  recordSecurityEvent(
    record: SecurityEventRecord<Token>,
  ): Promise<SecurityEventOutcome | undefined>;

  /**
   * Active credentials not refreshed (nor stored, if never refreshed) since `before`, the
   * longest idle first, at most `limit`: the idle refresh keeps them from Google's six-month
   * expiry.
   */
  listIdleCredentials(before: Date, limit: number): Promise<string[]>;

  /** Appends an audit event. */
  appendAuditEvent(event: AuditEventInput): Promise<AuditEvent>;
  /** Audit events, newest first, optionally for one user. */
  listAuditEvents(options?: { sub?: string; limit?: number }): Promise<AuditEvent[]>;
}

/** The store as Steward uses it: tokens in plaintext, sealed below (see the file's comment). */
export type VaultStore = StoreOf<string>;

/** The store as an adapter implements it: tokens sealed, never plaintext. */
export type SealedStore = StoreOf<SealedToken>;
