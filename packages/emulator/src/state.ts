import { randomBytes, randomInt } from "node:crypto";
import {
  type AccessTokenRecord,
  type AuthorizationCode,
  DEFAULT_SETTINGS,
  type EmulatorClient,
  type EmulatorSettings,
  type EmulatorUser,
  type Grant,
  OPENID_SCOPES,
  type RefreshTokenRecord,
} from "./model.js";
import { RequestStats, type StatsSnapshot } from "./request-stats.js";
import { normalizeScopes } from "./scope-list.js";
import type { ClientInput, MintCodeInput, StateRecords, UserInput } from "./state-inputs.js";

// Kept here for the modules that import them from the state.
export { pkceMatches } from "./pkce.js";
export { hasOpenIdScope, normalizeScopes } from "./scope-list.js";
export type { ClientInput, MintCodeInput, StateRecords, UserInput } from "./state-inputs.js";

const token = (prefix: string, bytes: number) => prefix + randomBytes(bytes).toString("base64url");

/** Access tokens are swept for dead ones once this many are held. */
const SWEEP_THRESHOLD = 50_000;

/** Google's shapes: codes `4/0…`, access tokens `ya29.…`, refresh tokens `1//0…`. */
export const CODE_SHAPE = /^4\/0[A-Za-z0-9_-]{40,}$/;

/**
 * Everything the emulator knows, in memory: clients, users, codes, tokens and grants, plus
 * request and grant counters for tests. All operations are synchronous, so a code is
 * redeemed at most once even when two requests race.
 */
export class EmulatorState {
  readonly settings: EmulatorSettings = { ...DEFAULT_SETTINGS };
  readonly clients = new Map<string, EmulatorClient>();
  readonly users = new Map<string, EmulatorUser>();
  private readonly usersByEmail = new Map<string, EmulatorUser>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly grants = new Map<string, Grant>();
  private readonly counters = new RequestStats();
  private nextSweepAt = SWEEP_THRESHOLD;

  constructor(
    private readonly realNow: () => number = Date.now,
    readonly projectId = "steward-emulator",
  ) {}

  /** The emulator's clock: the real one moved ahead by `clockOffsetSeconds`, for expiry tests. */
  readonly now = (): number => this.realNow() + this.settings.clockOffsetSeconds * 1000;

  /** Moves the clock ahead (never back: tokens already issued keep their order). */
  advanceClock(seconds: number): number {
    this.settings.clockOffsetSeconds += seconds;
    return this.now();
  }

  registerClient(input: ClientInput): EmulatorClient {
    const number = String(randomInt(100_000_000_000, 999_999_999_999));
    const client: EmulatorClient = {
      clientId:
        input.clientId ?? `${number}-${randomBytes(16).toString("hex")}.apps.googleusercontent.com`,
      clientSecret:
        input.clientSecret ??
        (input.type === "web" ? token("GOCSPX-", 21).slice(0, 35) : undefined),
      type: input.type,
      redirectUris: input.redirectUris ?? (input.type === "installed" ? ["http://localhost"] : []),
      javascriptOrigins: input.javascriptOrigins ?? [],
      projectId: this.projectId,
      publishingStatus: input.publishingStatus,
    };
    this.clients.set(client.clientId, client);
    return client;
  }

  createUser(input: UserInput): EmulatorUser {
    const existing = this.usersByEmail.get(input.email.toLowerCase());
    if (existing) return existing;
    const local = input.email.split("@")[0] ?? input.email;
    // A display name gives the given and family names, as a Google Account's name does.
    const [first, ...rest] = input.name?.trim().split(/\s+/) ?? [];
    const givenName = input.givenName ?? first ?? capitalize(local.split(/[._-]/)[0] ?? local);
    const familyName = input.familyName ?? (input.name === undefined ? "Tester" : rest.join(" "));
    const user: EmulatorUser = {
      // 21 digits, like Google's subject identifiers.
      sub: `1${String(randomInt(10 ** 9, 10 ** 10 - 1))}${String(randomInt(10 ** 9, 10 ** 10 - 1))}`,
      email: input.email,
      emailVerified: input.emailVerified ?? true,
      name: input.name ?? `${givenName} ${familyName}`,
      givenName,
      familyName,
      picture: input.picture ?? `https://lh3.googleusercontent.com/a/${local}=s96-c`,
      locale: input.locale ?? "en",
      hd: input.hd,
    };
    this.users.set(user.sub, user);
    this.usersByEmail.set(user.email.toLowerCase(), user);
    return user;
  }

  findUser(emailOrSub: string): EmulatorUser | undefined {
    return this.users.get(emailOrSub) ?? this.usersByEmail.get(emailOrSub.toLowerCase());
  }

  /**
   * Mints a one-time code. A refresh token will follow only when the user sees the consent
   * screen with offline access: the first consent of this (user, client), a grant revoked since,
   * new scopes, or `prompt=consent`. A repeat sign-in gets none, as with Google.
   */
  mintCode(input: MintCodeInput): { code: string; scopes: string[] } {
    const requested = normalizeScopes(input.requestedScopes);
    const ticked = new Set(normalizeScopes(input.grantedScopes ?? requested));
    const scopes = requested.filter((scope) => ticked.has(scope) || OPENID_SCOPES.includes(scope));
    const grant = this.grants.get(grantKey(input.sub, input.clientId));
    const consentShown =
      (input.prompt ?? "").split(" ").includes("consent") ||
      grant === undefined ||
      grant.revoked ||
      grant.refreshTokens.length === 0 ||
      scopes.some((scope) => !grant.scopes.has(scope));
    const code = token("4/0", 54);
    this.codes.set(code, {
      clientId: input.clientId,
      authorizedParty: input.authorizedParty ?? input.clientId,
      sub: input.sub,
      scopes,
      redirectUris: input.redirectUris,
      issueRefreshToken: input.offline && consentShown,
      expiresAtMs: this.now() + this.settings.codeTtlSeconds * 1000,
      nonce: input.nonce,
      codeChallenge: input.codeChallenge,
      codeChallengeMethod: input.codeChallenge ? (input.codeChallengeMethod ?? "plain") : undefined,
    });
    return { code, scopes };
  }

  /** Takes a code out (it works once, whatever follows); undefined when unknown or expired. */
  redeemCode(code: string): AuthorizationCode | undefined {
    const record = this.codes.get(code);
    this.codes.delete(code);
    if (record === undefined || record.expiresAtMs <= this.now()) return undefined;
    return record;
  }

  /** Records the consent and returns a new refresh token, evicting the oldest past the limit. */
  issueRefreshToken(sub: string, clientId: string, scopes: readonly string[]): string {
    const grant = this.liveGrant(sub, clientId);
    for (const scope of scopes) grant.scopes.add(scope);
    const refreshToken = token("1//0", 72);
    const nowMs = this.now();
    const status = this.clients.get(clientId)?.publishingStatus ?? this.settings.publishingStatus;
    this.refreshTokens.set(refreshToken, {
      sub,
      clientId,
      scopes: [...scopes],
      createdAtMs: nowMs,
      lastUsedAtMs: nowMs,
      expiresAtMs:
        status === "testing" ? nowMs + this.settings.testingRefreshTokenSeconds * 1000 : undefined,
      revoked: false,
    });
    grant.refreshTokens.push(refreshToken);
    // Google keeps the newest `refreshTokenLimit` per (account, client): the oldest dies silently.
    while (grant.refreshTokens.length > this.settings.refreshTokenLimit) {
      const oldest = grant.refreshTokens.shift() as string;
      this.killRefreshToken(oldest);
    }
    return refreshToken;
  }

  /** Records scopes consented without offline access (no refresh token). */
  recordConsent(sub: string, clientId: string, scopes: readonly string[]): void {
    const grant = this.liveGrant(sub, clientId);
    for (const scope of scopes) grant.scopes.add(scope);
  }

  /** The (user, client) grant, created or revived (keeping its epoch) for a new consent. */
  private liveGrant(sub: string, clientId: string): Grant {
    const key = grantKey(sub, clientId);
    let grant = this.grants.get(key);
    if (grant === undefined) {
      grant = { sub, clientId, scopes: new Set(), refreshTokens: [], revoked: false, epoch: 0 };
      this.grants.set(key, grant);
    }
    grant.revoked = false;
    return grant;
  }

  issueAccessToken(
    sub: string,
    clientId: string,
    scopes: readonly string[],
    refreshToken: string | undefined,
  ): { accessToken: string; expiresIn: number } {
    const expiresIn = this.settings.accessTokenTtlSeconds;
    const accessToken = token("ya29.a0", 120);
    this.accessTokens.set(accessToken, {
      sub,
      clientId,
      scopes: [...scopes],
      expiresAtMs: this.now() + expiresIn * 1000,
      refreshToken,
      epoch: this.grants.get(grantKey(sub, clientId))?.epoch ?? 0,
    });
    if (this.accessTokens.size >= this.nextSweepAt) this.sweepExpiredAccessTokens();
    return { accessToken, expiresIn };
  }

  /** The newest live refresh token of a (user, client) grant, if any. */
  grantRefreshToken(sub: string, clientId: string): string | undefined {
    const grant = this.grants.get(grantKey(sub, clientId));
    return grant?.revoked ? undefined : grant?.refreshTokens.at(-1);
  }

  /** A refresh token not revoked, evicted, idle too long or past its Testing-mode life. */
  liveRefreshToken(refreshToken: string): RefreshTokenRecord | undefined {
    const record = this.refreshTokens.get(refreshToken);
    if (record === undefined || record.revoked) return undefined;
    const nowMs = this.now();
    const idleSinceMs = record.lastUsedAtMs ?? record.createdAtMs;
    const expired =
      nowMs - idleSinceMs >= this.settings.refreshTokenIdleSeconds * 1000 ||
      (record.expiresAtMs !== undefined && nowMs >= record.expiresAtMs);
    if (!expired) return record;
    // Dead for good, like a revoked one: the grant no longer counts it.
    this.killRefreshToken(refreshToken);
    const grant = this.grants.get(grantKey(record.sub, record.clientId));
    if (grant) grant.refreshTokens = grant.refreshTokens.filter((value) => value !== refreshToken);
    return undefined;
  }

  /** Notes a refresh made with the token: it restarts the idle expiry. */
  useRefreshToken(refreshToken: string): void {
    const record = this.refreshTokens.get(refreshToken);
    if (record) record.lastUsedAtMs = this.now();
  }

  /** Any refresh token this emulator issued, live or dead. */
  refreshTokenRecord(refreshToken: string): RefreshTokenRecord | undefined {
    return this.refreshTokens.get(refreshToken);
  }

  /**
   * Ends one refresh token (and the access tokens minted from it), leaving the grant's other
   * tokens alive: what Google's token-revoked event reports. False when unknown or dead.
   */
  revokeRefreshToken(refreshToken: string): boolean {
    const record = this.liveRefreshToken(refreshToken);
    if (record === undefined) return false;
    this.killRefreshToken(refreshToken);
    const grant = this.grants.get(grantKey(record.sub, record.clientId));
    if (grant) grant.refreshTokens = grant.refreshTokens.filter((value) => value !== refreshToken);
    return true;
  }

  /** A valid access token's record: unexpired, its refresh token alive, its grant not revoked since. */
  liveAccessToken(accessToken: string): AccessTokenRecord | undefined {
    const record = this.accessTokens.get(accessToken);
    if (record === undefined) return undefined;
    const grant = this.grants.get(grantKey(record.sub, record.clientId));
    const dead =
      record.expiresAtMs <= this.now() ||
      grant === undefined ||
      grant.epoch !== record.epoch ||
      (record.refreshToken !== undefined &&
        this.refreshTokens.get(record.refreshToken)?.revoked === true);
    if (dead) {
      this.accessTokens.delete(accessToken);
      return undefined;
    }
    return record;
  }

  /**
   * /revoke: an access or refresh token. Like Google, revoking either ends the whole grant of
   * that (user, client): every refresh and access token. False when the token is unknown or dead.
   */
  revokeToken(tokenValue: string): boolean {
    const owner = this.liveRefreshToken(tokenValue) ?? this.liveAccessToken(tokenValue);
    if (owner === undefined) return false;
    this.revokeGrant(owner.sub, owner.clientId);
    return true;
  }

  /** The user removes an app's access (or every app's, without a client). */
  revokeGrant(sub: string, clientId?: string): number {
    let count = 0;
    for (const grant of this.grants.values()) {
      if (grant.sub !== sub || (clientId !== undefined && grant.clientId !== clientId)) continue;
      if (!grant.revoked) count += 1;
      grant.revoked = true;
      grant.epoch += 1;
      for (const refreshToken of grant.refreshTokens) this.killRefreshToken(refreshToken);
      grant.refreshTokens = [];
      grant.scopes = new Set();
    }
    return count;
  }

  grantsOf(sub: string): Array<{
    clientId: string;
    scopes: string[];
    revoked: boolean;
    refreshTokens: Array<{ token: string; revoked: boolean; createdAt: string }>;
  }> {
    const out = [];
    for (const grant of this.grants.values()) {
      if (grant.sub !== sub) continue;
      const refreshTokens = [...this.refreshTokens]
        .filter(([, record]) => record.sub === sub && record.clientId === grant.clientId)
        .map(([value, record]) => ({
          token: value,
          revoked: record.revoked,
          createdAt: new Date(record.createdAtMs).toISOString(),
        }));
      out.push({
        clientId: grant.clientId,
        scopes: [...grant.scopes],
        revoked: grant.revoked,
        refreshTokens,
      });
    }
    return out;
  }

  /** The state as a persisted emulator saves it; expired codes and access tokens are left out. */
  exportRecords(): StateRecords {
    const now = this.now();
    return {
      settings: { ...this.settings },
      clients: [...this.clients.values()],
      users: [...this.users.values()],
      codes: [...this.codes].filter(([, code]) => code.expiresAtMs > now),
      refreshTokens: [...this.refreshTokens],
      accessTokens: [...this.accessTokens].filter(([, record]) => record.expiresAtMs > now),
      grants: [...this.grants.values()].map((grant) => ({
        ...grant,
        scopes: [...grant.scopes],
        refreshTokens: [...grant.refreshTokens],
      })),
    };
  }

  /**
   * Replaces the state with what {@link exportRecords} saved.
   *
   * @throws TypeError when a part is missing or not a list.
   */
  importRecords(records: StateRecords): void {
    for (const [name, value] of Object.entries(records)) {
      if (name !== "settings" && !Array.isArray(value))
        throw new TypeError(`${name} is not a list`);
    }
    Object.assign(this.settings, DEFAULT_SETTINGS, records.settings);
    this.clients.clear();
    for (const client of records.clients) this.clients.set(client.clientId, client);
    this.users.clear();
    this.usersByEmail.clear();
    for (const user of records.users) {
      this.users.set(user.sub, user);
      this.usersByEmail.set(user.email.toLowerCase(), user);
    }
    replace(this.codes, records.codes);
    replace(this.refreshTokens, records.refreshTokens);
    replace(this.accessTokens, records.accessTokens);
    this.grants.clear();
    for (const grant of records.grants) {
      this.grants.set(grantKey(grant.sub, grant.clientId), {
        ...grant,
        scopes: new Set(grant.scopes),
      });
    }
  }

  countRequest(path: string): void {
    this.counters.countRequest(path);
  }

  countGrant(grantType: string, sub: string): void {
    this.counters.countGrant(grantType, sub);
  }

  stats(): StatsSnapshot {
    return this.counters.snapshot();
  }

  resetStats(): void {
    this.counters.reset();
  }

  /** Its access tokens die with it: liveAccessToken checks the refresh token. */
  private killRefreshToken(refreshToken: string): void {
    const record = this.refreshTokens.get(refreshToken);
    if (record) record.revoked = true;
  }

  /** Drops dead access tokens; amortized: the next sweep waits until the map has doubled. */
  private sweepExpiredAccessTokens(): void {
    for (const value of this.accessTokens.keys()) this.liveAccessToken(value);
    this.nextSweepAt = Math.max(SWEEP_THRESHOLD, this.accessTokens.size * 2);
  }
}

function replace<T>(map: Map<string, T>, entries: ReadonlyArray<[string, T]>): void {
  map.clear();
  for (const [key, value] of entries) map.set(key, value);
}

function grantKey(sub: string, clientId: string): string {
  return `${sub} ${clientId}`;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
