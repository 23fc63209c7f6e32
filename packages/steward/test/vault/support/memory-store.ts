import { StewardError } from "../../../src/errors.js";
import {
  type AuditEvent,
  type AuditEventInput,
  type BeforeDeletion,
  type ChangeEvent,
  type CredentialInfo,
  type CredentialOutcome,
  checkAuditEvent,
  checkEvents,
  checkLimit,
  checkOutcome,
  checkSealed,
  checkSub,
  type DeletionRecord,
  type ListOptions,
  type LockedUsers,
  type LockOptions,
  type MarkRevokedOptions,
  type RefreshTokenMatcher,
  type SaveCredentialInput,
  type SealedCredential,
  type SealedStore,
  type SealedToken,
  type SecurityEventOutcome,
  type SecurityEventRecord,
  type SignInRecord,
  type SignInRecordInput,
  type User,
  type UserProfile,
  type UserRecord,
} from "../../../src/store/index.js";

/**
 * A {@link SealedStore} in memory, for tests: the second adapter the contract suite runs, so the
 * contract, not PostgreSQL, is what the sealing store and the token manager rely on. Instances
 * opened over one {@link MemoryStorage} share it as instances share a database; each call that
 * takes a lock holds it as its own (as each takes its own pooled connection).
 */
export class MemoryStorage {
  readonly users = new Map<string, MutableUser>();
  readonly credentials = new Map<string, MutableCredential>();
  readonly audit: AuditEvent[] = [];
  readonly securityEvents = new Set<string>();
  /** What a store queuing events wrote to the webhook outbox. */
  readonly outbox: ChangeEvent[] = [];
  readonly locks = new Locks();
  #auditId = 0;

  nextAuditId(): string {
    this.#auditId += 1;
    return String(this.#auditId);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MutableUser = Mutable<User>;
type MutableCredential = Mutable<SealedCredential>;

export interface MemoryStoreOptions {
  /** As PostgresStore's: how long a lock waits for another holder. Default 30,000 ms. */
  readonly lockTimeoutMs?: number | undefined;
  /** As PostgresStore's: write the events given with a change to `storage.outbox`. */
  readonly queueEvents?: boolean | undefined;
}

export class MemoryStore implements SealedStore {
  readonly #data: MemoryStorage;
  readonly #lockTimeoutMs: number;
  readonly #queueEvents: boolean;

  constructor(storage: MemoryStorage, options: MemoryStoreOptions = {}) {
    this.#data = storage;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.#queueEvents = options.queueEvents ?? false;
  }

  async upsertUser(profile: UserProfile): Promise<User> {
    checkSub(profile.sub);
    return { ...this.#upsert(profile) };
  }

  async getUser(sub: string): Promise<UserRecord | undefined> {
    checkSub(sub);
    const user = this.#data.users.get(sub);
    return user === undefined ? undefined : this.#record(user);
  }

  async listUsers(options: ListOptions = {}): Promise<UserRecord[]> {
    const limit = checkLimit(options.limit);
    const search = options.search ?? "";
    return [...this.#data.users.values()]
      .filter((user) => options.after === undefined || user.sub > options.after)
      .filter(
        (user) =>
          search === "" ||
          user.sub.startsWith(search) ||
          (user.email?.toLowerCase().startsWith(search.toLowerCase()) ?? false),
      )
      .sort((a, b) => compare(a.sub, b.sub))
      .slice(0, limit)
      .map((user) => this.#record(user));
  }

  async deleteUser(sub: string, beforeDeletion?: BeforeDeletion<SealedToken>): Promise<boolean> {
    checkSub(sub);
    return this.#hold([sub], { wait: true }, async () => {
      if (!this.#data.users.has(sub)) return false;
      let record: DeletionRecord = {};
      if (beforeDeletion !== undefined) record = await beforeDeletion(this.#credential(sub));
      const audit = (record.audit ?? []).map((event) => ({ ...event, sub }));
      for (const event of audit) checkAuditEvent(event);
      checkEvents(record.events);
      this.#data.users.delete(sub);
      this.#data.credentials.delete(sub);
      this.#appendAudit(audit);
      this.#queue(record.events ?? []);
      return true;
    });
  }

  async recordSignIn(input: SignInRecordInput<SealedToken>): Promise<SignInRecord> {
    const { sub } = input.profile;
    checkSub(sub);
    const audit = { ...input.audit, sub };
    checkAuditEvent(audit);
    const credentialInput = { ...input.credential, sub };
    checkCredentialInput(credentialInput);
    return this.#hold([sub], { wait: true }, async () => {
      const user = {
        ...this.#upsert(input.profile, {
          refreshToken: input.credential.refreshToken !== undefined,
        }),
      };
      const credential = this.#writeCredential(credentialInput);
      this.#appendAudit([audit]);
      return { user, credential };
    });
  }

  async ping(): Promise<void> {}

  async saveCredential(
    input: SaveCredentialInput<SealedToken>,
  ): Promise<CredentialInfo | undefined> {
    checkSub(input.sub);
    checkCredentialInput(input);
    return this.#hold([input.sub], { wait: true }, async () => this.#writeCredential(input));
  }

  async getCredential(sub: string): Promise<SealedCredential | undefined> {
    checkSub(sub);
    return this.#credential(sub);
  }

  async markRevoked(
    sub: string,
    reason: string,
    options: MarkRevokedOptions = {},
  ): Promise<boolean> {
    checkSub(sub);
    const { status = "revoked", events, audit } = options;
    const outcome = { kind: "revoked", reason, status, events, audit } as const;
    checkOutcome(outcome);
    return this.#write(sub, outcome);
  }

  async withLockedUsers<T>(
    subs: readonly string[],
    fn: (held: LockedUsers<SealedToken>) => Promise<T>,
    options: LockOptions = {},
  ): Promise<T> {
    for (const sub of subs) checkSub(sub);
    const asked = [...new Set(subs)];
    return this.#hold(asked, options, (locked, held, release) => {
      const notHeld = (sub: string) => new TypeError(`sub ${sub} is not held here`);
      const taken = new Set(locked);
      return fn({
        locked,
        busy: asked.filter((sub) => !taken.has(sub)),
        read: async () => {
          const mine = locked.filter((sub) => held.has(sub));
          const read = new Map(mine.map((sub) => [sub, this.#credential(sub)]));
          return {
            credential: (sub) => {
              if (!read.has(sub)) throw notHeld(sub);
              return read.get(sub);
            },
          };
        },
        write: async (outcomes) => {
          for (const { sub, outcome } of outcomes) {
            if (!held.has(sub)) throw notHeld(sub);
            checkOutcome(outcome);
          }
          const changed = new Set<string>();
          // Checked first, then written in one turn: all or nothing, like a transaction.
          for (const { sub, outcome } of outcomes) {
            if (this.#write(sub, outcome)) changed.add(sub);
          }
          return changed;
        },
        unlock: async (subs) => {
          for (const sub of subs) if (!held.has(sub)) throw notHeld(sub);
          for (const sub of new Set(subs)) release(sub);
        },
      });
    });
  }

  async hasSecurityEvent(jti: string): Promise<boolean> {
    return this.#data.securityEvents.has(jti);
  }

  async findRefreshTokens(matches: RefreshTokenMatcher<SealedToken>): Promise<string[]> {
    return [...this.#data.credentials.values()]
      .filter((c) => c.status === "active" && c.refreshToken !== null)
      .sort((a, b) => compare(a.sub, b.sub))
      .filter((c) => matches(c.refreshToken as SealedToken, c.sub))
      .map((c) => c.sub);
  }

  async recordSecurityEvent(
    record: SecurityEventRecord<SealedToken>,
  ): Promise<SecurityEventOutcome | undefined> {
    if (record.sub !== null) checkSub(record.sub);
    for (const event of [...record.audit, ...record.revocations.map((r) => r.audit)])
      checkAuditEvent(event);
    checkEvents(record.events);
    if (this.#data.securityEvents.has(record.jti)) return undefined;
    this.#data.securityEvents.add(record.jti);
    const audit: AuditEventInput[] = [...record.audit];
    const events: ChangeEvent[] = [...record.events];
    const revoked: string[] = [];
    for (const revocation of record.revocations) {
      const { sub, refreshTokenMatches } = revocation;
      const stored = this.#data.credentials.get(sub);
      if (
        refreshTokenMatches &&
        !(
          stored?.status === "active" &&
          stored.refreshToken !== null &&
          refreshTokenMatches(stored.refreshToken, sub)
        )
      )
        continue;
      if (!this.#apply(sub, { kind: "revoked", reason: revocation.reason })) continue;
      revoked.push(sub);
      audit.push(revocation.audit);
      events.push(...(revocation.events ?? []));
    }
    const flagged: string[] = [];
    for (const { sub, disabled } of record.accountStates) {
      const user = this.#data.users.get(sub);
      if (user === undefined) continue;
      user.accountDisabled = disabled === null ? null : { at: new Date(), reason: disabled.reason };
      user.updatedAt = new Date();
      flagged.push(sub);
    }
    this.#appendAudit(audit);
    this.#queue(events);
    return { revoked, flagged };
  }

  async listIdleCredentials(before: Date, limit: number): Promise<string[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError("limit must be positive");
    const idleSince = (c: MutableCredential) => (c.lastRefreshAt ?? c.createdAt).getTime();
    return [...this.#data.credentials.values()]
      .filter((c) => c.status === "active" && idleSince(c) < before.getTime())
      .sort((a, b) => idleSince(a) - idleSince(b) || compare(a.sub, b.sub))
      .slice(0, limit)
      .map((c) => c.sub);
  }

  async appendAuditEvent(event: AuditEventInput): Promise<AuditEvent> {
    checkAuditEvent(event);
    const [appended] = this.#appendAudit([event]);
    return { ...(appended as AuditEvent) };
  }

  async listAuditEvents(options: { sub?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    const limit = checkLimit(options.limit);
    return this.#data.audit
      .filter((event) => options.sub === undefined || event.sub === options.sub)
      .reverse()
      .slice(0, limit)
      .map((event) => ({
        ...event,
        email: event.sub === null ? null : (this.#data.users.get(event.sub)?.email ?? null),
      }));
  }

  /**
   * Runs `fn` holding the users' locks (all of them, waiting up to the lock timeout, with
   * `wait`; else those free now), with the subs locked and the set of those still held; `fn`
   * may `release` some early. The rest are released when `fn` settles, and the set is emptied,
   * so a primitive used later refuses.
   */
  async #hold<T>(
    subs: readonly string[],
    options: LockOptions,
    fn: (locked: string[], held: Set<string>, release: (sub: string) => void) => Promise<T>,
  ): Promise<T> {
    const owner = Symbol("holder");
    const { locks } = this.#data;
    if (options.wait) await locks.lockAll(subs, owner, this.#lockTimeoutMs);
    const locked = options.wait ? [...subs] : subs.filter((sub) => locks.tryLock(sub, owner));
    const held = new Set(locked);
    const release = (sub: string) => {
      held.delete(sub);
      locks.unlock(sub, owner);
    };
    try {
      return await fn(locked, held, release);
    } finally {
      for (const sub of held) release(sub);
    }
  }

  #upsert(profile: UserProfile, signIn?: { readonly refreshToken: boolean }): MutableUser {
    const now = new Date();
    const user: MutableUser = this.#data.users.get(profile.sub) ?? {
      sub: profile.sub,
      email: null,
      emailVerified: null,
      name: null,
      picture: null,
      locale: null,
      givenName: null,
      familyName: null,
      hd: null,
      accountDisabled: null,
      signIns: 0,
      refreshTokenSignIns: 0,
      createdAt: now,
      updatedAt: now,
    };
    const { sub: _sub, ...fields } = profile;
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (user as Record<string, unknown>)[key] = value;
    }
    if (signIn) {
      user.signIns += 1;
      if (signIn.refreshToken) user.refreshTokenSignIns += 1;
    }
    user.updatedAt = now;
    this.#data.users.set(user.sub, user);
    return user;
  }

  #record(user: MutableUser): UserRecord {
    const credential = this.#data.credentials.get(user.sub);
    return { ...user, credential: credential === undefined ? undefined : info(credential) };
  }

  #credential(sub: string): SealedCredential | undefined {
    const stored = this.#data.credentials.get(sub);
    return stored === undefined
      ? undefined
      : { ...stored, grantedScopes: [...stored.grantedScopes] };
  }

  /** saveCredential's writes, as PostgresStore makes them. */
  #writeCredential(input: SaveCredentialInput<SealedToken>): CredentialInfo | undefined {
    const { sub } = input;
    const scopes = [...input.grantedScopes];
    const stored = this.#data.credentials.get(sub);
    const now = new Date();
    if (input.refreshToken !== undefined) {
      if (!this.#data.users.has(sub)) throw userNotFound(sub);
      const credential: MutableCredential = {
        sub,
        status: "active",
        grantedScopes: scopes,
        hasRefreshToken: true,
        kid: input.refreshToken.kid,
        refreshToken: input.refreshToken,
        accessToken: input.accessToken?.token ?? null,
        accessTokenExpiresAt: input.accessToken?.expiresAt ?? null,
        revokedReason: null,
        lastRefreshAt: stored?.lastRefreshAt ?? null,
        lastError: null,
        createdAt: stored?.createdAt ?? now,
        updatedAt: now,
      };
      this.#data.credentials.set(sub, credential);
      this.#queue(input.events ?? []);
      return info(credential);
    }
    if (stored?.status === "active") {
      // The union of the scopes; the new token if it covers the stored ones, else the stored
      // token if it covers the new ones, else none.
      const before = stored.grantedScopes;
      const covers = (a: readonly string[], b: readonly string[]) =>
        b.every((scope) => a.includes(scope));
      if (input.accessToken && covers(scopes, before)) {
        stored.accessToken = input.accessToken.token;
        stored.accessTokenExpiresAt = input.accessToken.expiresAt;
      } else if (!covers(before, scopes)) {
        stored.accessToken = null;
        stored.accessTokenExpiresAt = null;
      }
      stored.grantedScopes = [...new Set([...before, ...scopes])];
      stored.updatedAt = now;
      return info(stored);
    }
    if (stored !== undefined) return info(stored);
    if (!this.#data.users.has(sub)) throw userNotFound(sub);
    return undefined;
  }

  /** One outcome, with its audit event and its events when it changes the credential. */
  #write(sub: string, outcome: CredentialOutcome<SealedToken>): boolean {
    const changed = this.#apply(sub, outcome);
    if (changed && outcome.kind !== "unchanged") {
      if (outcome.kind === "revoked" && outcome.audit)
        this.#appendAudit([{ ...outcome.audit, sub }]);
      this.#queue(outcome.events ?? []);
    }
    return changed;
  }

  #apply(sub: string, outcome: CredentialOutcome<SealedToken>): boolean {
    const stored = this.#data.credentials.get(sub);
    if (stored === undefined || outcome.kind === "unchanged") return false;
    const now = new Date();
    switch (outcome.kind) {
      case "refreshed": {
        if (stored.status !== "active") return false;
        const { result } = outcome;
        stored.accessToken = result.accessToken;
        stored.accessTokenExpiresAt = result.expiresAt;
        if (result.refreshToken !== undefined) {
          stored.refreshToken = result.refreshToken;
          stored.kid = result.refreshToken.kid;
        }
        if (result.grantedScopes !== undefined) stored.grantedScopes = [...result.grantedScopes];
        stored.lastRefreshAt = result.refreshedAt ?? now;
        stored.lastError = null;
        break;
      }
      case "failed":
        stored.lastError = outcome.reasonCode;
        break;
      case "revoked":
        if (stored.status !== "active") return false;
        stored.status = outcome.status ?? "revoked";
        stored.revokedReason = outcome.reason;
        stored.refreshToken = null;
        stored.hasRefreshToken = false;
        stored.kid = null;
        stored.accessToken = null;
        stored.accessTokenExpiresAt = null;
        break;
    }
    stored.updatedAt = now;
    return true;
  }

  #appendAudit(events: readonly AuditEventInput[]): AuditEvent[] {
    const appended = events.map((event) => ({
      id: this.#data.nextAuditId(),
      at: new Date(),
      type: event.type,
      sub: event.sub ?? null,
      actor: event.actor ?? null,
      data: { ...event.data },
    }));
    this.#data.audit.push(...appended);
    return appended;
  }

  #queue(events: readonly ChangeEvent[]): void {
    if (this.#queueEvents) this.#data.outbox.push(...events);
  }
}

/**
 * Per-user locks held by an owner (a call, as PostgreSQL's are held by a connection). Waiting
 * takes them in one order, so two waiting callers cannot deadlock.
 */
class Locks {
  readonly #held = new Map<string, symbol>();
  readonly #released = new Map<string, (() => void)[]>();

  tryLock(sub: string, owner: symbol): boolean {
    if (this.#held.has(sub)) return false;
    this.#held.set(sub, owner);
    return true;
  }

  /** @throws StewardError `credential_busy`, holding none of them, after `timeoutMs`. */
  async lockAll(subs: readonly string[], owner: symbol, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const taken: string[] = [];
    for (const sub of [...subs].sort(compare)) {
      while (!this.tryLock(sub, owner)) {
        const left = deadline - Date.now();
        if (left <= 0 || !(await this.#waitForRelease(sub, left))) {
          for (const mine of taken) this.unlock(mine, owner);
          throw new StewardError("credential_busy", {
            detail: `lock of ${subs.length === 1 ? `sub ${subs[0]}` : `${subs.length} users`} not granted within ${timeoutMs} ms`,
          });
        }
      }
      taken.push(sub);
    }
  }

  unlock(sub: string, owner: symbol): void {
    if (this.#held.get(sub) !== owner) return;
    this.#held.delete(sub);
    const waiting = this.#released.get(sub) ?? [];
    this.#released.delete(sub);
    for (const wake of waiting) wake();
  }

  /** Whether `sub` was released within `ms`. */
  #waitForRelease(sub: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      const waiting = this.#released.get(sub) ?? [];
      waiting.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.#released.set(sub, waiting);
    });
  }
}

function info(credential: MutableCredential): CredentialInfo {
  const { refreshToken: _refresh, accessToken: _access, ...rest } = credential;
  return { ...rest, grantedScopes: [...rest.grantedScopes] };
}

function checkCredentialInput(input: SaveCredentialInput<SealedToken>): void {
  if (input.refreshToken !== undefined) checkSealed(input.refreshToken, "refreshToken");
  if (input.accessToken !== undefined) checkSealed(input.accessToken.token, "accessToken.token");
  checkEvents(input.events);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function userNotFound(sub: string): StewardError {
  return new StewardError("user_not_found", {
    detail: `saveCredential for sub ${sub} before upsertUser`,
  });
}
