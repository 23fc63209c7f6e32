import {
  type Keyring,
  openCredential,
  openToken,
  type SealedField,
  sealField,
} from "../crypto/index.js";
import { isStewardError } from "../errors.js";
import { silentLogger, type VaultLogger } from "../shared/index.js";
import type {
  AuditEvent,
  AuditEventInput,
  BeforeDeletion,
  Credential,
  CredentialInfo,
  CredentialOutcome,
  ListOptions,
  LockedUsers,
  LockOptions,
  MarkRevokedOptions,
  RefreshResult,
  RefreshTokenMatcher,
  SaveCredentialInput,
  SealedCredential,
  SealedStore,
  SealedToken,
  SecurityEventOutcome,
  SecurityEventRecord,
  SignInRecord,
  SignInRecordInput,
  User,
  UserProfile,
  UserRecord,
  VaultStore,
} from "../store/index.js";

/**
 * The store Steward uses, over an adapter that holds only ciphertext: tokens are sealed with the
 * keyring's active key here, bound to their user and field, before the adapter sees them, and
 * opened here on the way out. The adapter (PostgreSQL, or the tests' in-memory one) never holds
 * a key; everything but the tokens passes through unchanged.
 *
 * @example
 *   const store = new SealingStore(new PostgresStore(db), keyring, logger);
 *   await store.saveCredential({ sub, refreshToken, grantedScopes });
 */
export class SealingStore implements VaultStore {
  readonly #adapter: SealedStore;
  readonly #keyring: Keyring;
  readonly #logger: VaultLogger;

  constructor(adapter: SealedStore, keyring: Keyring, logger: VaultLogger = silentLogger) {
    this.#adapter = adapter;
    this.#keyring = keyring;
    this.#logger = logger;
  }

  upsertUser(profile: UserProfile): Promise<User> {
    return this.#adapter.upsertUser(profile);
  }

  getUser(sub: string): Promise<UserRecord | undefined> {
    return this.#adapter.getUser(sub);
  }

  listUsers(options?: ListOptions): Promise<UserRecord[]> {
    return this.#adapter.listUsers(options);
  }

  deleteUser(sub: string, beforeDeletion?: BeforeDeletion): Promise<boolean> {
    return this.#adapter.deleteUser(
      sub,
      beforeDeletion &&
        ((sealed) =>
          beforeDeletion(sealed === undefined ? undefined : this.#openForDeletion(sealed))),
    );
  }

  async recordSignIn(input: SignInRecordInput): Promise<SignInRecord> {
    const { sub } = input.profile;
    return this.#adapter.recordSignIn({
      ...input,
      credential: this.#sealInput(sub, input.credential),
    });
  }

  ping(): Promise<void> {
    return this.#adapter.ping();
  }

  async saveCredential(input: SaveCredentialInput): Promise<CredentialInfo | undefined> {
    return this.#adapter.saveCredential({ ...this.#sealInput(input.sub, input), sub: input.sub });
  }

  async getCredential(sub: string): Promise<Credential | undefined> {
    const sealed = await this.#adapter.getCredential(sub);
    return sealed === undefined ? undefined : this.#open(sealed);
  }

  markRevoked(sub: string, reason: string, options?: MarkRevokedOptions): Promise<boolean> {
    return this.#adapter.markRevoked(sub, reason, options);
  }

  withLockedUsers<T>(
    subs: readonly string[],
    fn: (held: LockedUsers) => Promise<T>,
    options?: LockOptions,
  ): Promise<T> {
    return this.#adapter.withLockedUsers(
      subs,
      (held) =>
        fn({
          locked: held.locked,
          busy: held.busy,
          read: async () => {
            const read = await held.read();
            return {
              credential: (sub) => {
                const sealed = read.credential(sub);
                return sealed === undefined ? undefined : this.#open(sealed);
              },
            };
          },
          write: async (outcomes) =>
            held.write(
              outcomes.map(({ sub, outcome }) => ({
                sub,
                outcome: this.#sealOutcome(sub, outcome),
              })),
            ),
          unlock: (subs) => held.unlock(subs),
        }),
      options,
    );
  }

  hasSecurityEvent(jti: string): Promise<boolean> {
    return this.#adapter.hasSecurityEvent(jti);
  }

  findRefreshTokens(matches: RefreshTokenMatcher): Promise<string[]> {
    return this.#adapter.findRefreshTokens(this.#sealedMatcher(matches));
  }

  recordSecurityEvent(record: SecurityEventRecord): Promise<SecurityEventOutcome | undefined> {
    return this.#adapter.recordSecurityEvent({
      ...record,
      revocations: record.revocations.map(({ refreshTokenMatches, ...revocation }) => ({
        ...revocation,
        refreshTokenMatches:
          refreshTokenMatches === undefined ? undefined : this.#sealedMatcher(refreshTokenMatches),
      })),
    });
  }

  listIdleCredentials(before: Date, limit: number): Promise<string[]> {
    return this.#adapter.listIdleCredentials(before, limit);
  }

  appendAuditEvent(event: AuditEventInput): Promise<AuditEvent> {
    return this.#adapter.appendAuditEvent(event);
  }

  listAuditEvents(options?: { sub?: string; limit?: number }): Promise<AuditEvent[]> {
    return this.#adapter.listAuditEvents(options);
  }

  #seal(sub: string, field: SealedField, plaintext: string, name: string): SealedToken {
    if (typeof plaintext !== "string" || plaintext === "") {
      throw new TypeError(`${name} is empty${field === "refresh_token" ? "; leave it out" : ""}`);
    }
    return sealField(this.#keyring, sub, field, plaintext);
  }

  #sealInput(
    sub: string,
    input: Omit<SaveCredentialInput, "sub">,
  ): Omit<SaveCredentialInput<SealedToken>, "sub"> {
    const { refreshToken, accessToken, ...rest } = input;
    return {
      ...rest,
      refreshToken:
        refreshToken === undefined
          ? undefined
          : this.#seal(sub, "refresh_token", refreshToken, "refreshToken"),
      accessToken:
        accessToken === undefined
          ? undefined
          : {
              token: this.#seal(sub, "access_token", accessToken.token, "accessToken.token"),
              expiresAt: accessToken.expiresAt,
            },
    };
  }

  #sealRefresh(sub: string, result: RefreshResult): RefreshResult<SealedToken> {
    return {
      ...result,
      accessToken: this.#seal(sub, "access_token", result.accessToken, "accessToken"),
      refreshToken:
        result.refreshToken === undefined
          ? undefined
          : this.#seal(sub, "refresh_token", result.refreshToken, "refreshToken"),
    };
  }

  #sealOutcome(sub: string, outcome: CredentialOutcome): CredentialOutcome<SealedToken> {
    if (outcome?.kind !== "refreshed") return outcome;
    return { ...outcome, result: this.#sealRefresh(sub, outcome.result) };
  }

  /** @throws StewardError `credential_corrupt` or `key_missing` (logged by sub and kid). */
  #open(sealed: SealedCredential): Credential {
    return openCredential(this.#keyring, this.#logger, sealed);
  }

  /** A credential about to be erased: one no key opens cannot be revoked, but is erased all the same. */
  #openForDeletion(sealed: SealedCredential): Credential | undefined {
    try {
      return this.#open(sealed);
    } catch (error) {
      if (isStewardError(error, "credential_corrupt")) return undefined;
      throw error;
    }
  }

  /** Opens each candidate; one no key opens matches nothing (openToken logged it). */
  #sealedMatcher(matches: RefreshTokenMatcher): RefreshTokenMatcher<SealedToken> {
    return (sealed, sub) => {
      let token: string;
      try {
        token = openToken(this.#keyring, this.#logger, sub, "refresh_token", sealed);
      } catch (error) {
        if (isStewardError(error, "credential_corrupt") || isStewardError(error, "key_missing"))
          return false;
        throw error;
      }
      return matches(token, sub);
    };
  }
}
