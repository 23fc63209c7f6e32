import { AuthorizationCodes } from "./authorization-codes.js";
import { newClient } from "./client-registry.js";
import { Grants, type GrantView } from "./grants.js";
import {
  type AccessTokenRecord,
  type AuthorizationCode,
  DEFAULT_SETTINGS,
  type EmulatorClient,
  type EmulatorSettings,
  type EmulatorUser,
  type RefreshTokenRecord,
} from "./model.js";
import { RequestStats, type StatsSnapshot } from "./request-stats.js";
import type { ClientInput, MintCodeInput, StateRecords, UserInput } from "./state-inputs.js";
import { UserDirectory } from "./user-directory.js";

// Kept here for the modules that import them from the state.
export { CODE_SHAPE } from "./authorization-codes.js";
export { pkceMatches } from "./pkce.js";
export { hasOpenIdScope, normalizeScopes } from "./scope-list.js";
export type { ClientInput, MintCodeInput, StateRecords, UserInput } from "./state-inputs.js";

/**
 * Everything the emulator knows, in memory: its settings and clock, and one module per concern
 * (clients, the user directory, authorization codes, grants and their tokens, request counters),
 * behind the one object tests and routes call. It also saves and restores them as `state.json`'s
 * `state` part.
 */
export class EmulatorState {
  readonly settings: EmulatorSettings = { ...DEFAULT_SETTINGS };
  readonly clients = new Map<string, EmulatorClient>();
  readonly directory = new UserDirectory();
  /** The test users by `sub`. */
  readonly users = this.directory.bySub;
  /** The emulator's clock: the real one moved ahead by `clockOffsetSeconds`, for expiry tests. */
  readonly now = (): number => this.realNow() + this.settings.clockOffsetSeconds * 1000;
  readonly grants = new Grants(this.now, this.settings, this.clients);
  readonly codes = new AuthorizationCodes(this.now, this.settings, this.grants);
  private readonly counters = new RequestStats();

  constructor(
    private readonly realNow: () => number = Date.now,
    readonly projectId = "steward-emulator",
  ) {}

  /** Moves the clock ahead (never back: tokens already issued keep their order). */
  advanceClock(seconds: number): number {
    this.settings.clockOffsetSeconds += seconds;
    return this.now();
  }

  registerClient(input: ClientInput): EmulatorClient {
    const client = newClient(input, this.projectId);
    this.clients.set(client.clientId, client);
    return client;
  }

  createUser(input: UserInput): EmulatorUser {
    return this.directory.create(input);
  }

  findUser(emailOrSub: string): EmulatorUser | undefined {
    return this.directory.find(emailOrSub);
  }

  mintCode(input: MintCodeInput): { code: string; scopes: string[] } {
    return this.codes.mint(input);
  }

  redeemCode(code: string): AuthorizationCode | undefined {
    return this.codes.redeem(code);
  }

  issueRefreshToken(sub: string, clientId: string, scopes: readonly string[]): string {
    return this.grants.issueRefreshToken(sub, clientId, scopes);
  }

  recordConsent(sub: string, clientId: string, scopes: readonly string[]): void {
    this.grants.recordConsent(sub, clientId, scopes);
  }

  issueAccessToken(
    sub: string,
    clientId: string,
    scopes: readonly string[],
    refreshToken: string | undefined,
  ): { accessToken: string; expiresIn: number } {
    return this.grants.issueAccessToken(sub, clientId, scopes, refreshToken);
  }

  grantRefreshToken(sub: string, clientId: string): string | undefined {
    return this.grants.grantRefreshToken(sub, clientId);
  }

  liveRefreshToken(refreshToken: string): RefreshTokenRecord | undefined {
    return this.grants.liveRefreshToken(refreshToken);
  }

  useRefreshToken(refreshToken: string): void {
    this.grants.useRefreshToken(refreshToken);
  }

  refreshTokenRecord(refreshToken: string): RefreshTokenRecord | undefined {
    return this.grants.refreshTokenRecord(refreshToken);
  }

  revokeRefreshToken(refreshToken: string): boolean {
    return this.grants.revokeRefreshToken(refreshToken);
  }

  liveAccessToken(accessToken: string): AccessTokenRecord | undefined {
    return this.grants.accessTokens.live(accessToken);
  }

  revokeToken(tokenValue: string): boolean {
    return this.grants.revokeToken(tokenValue);
  }

  revokeGrant(sub: string, clientId?: string): number {
    return this.grants.revokeGrant(sub, clientId);
  }

  grantsOf(sub: string): GrantView[] {
    return this.grants.grantsOf(sub);
  }

  /** The state as a persisted emulator saves it; expired codes and access tokens are left out. */
  exportRecords(): StateRecords {
    const now = this.now();
    const { refreshTokens, grants } = this.grants.export();
    return {
      settings: { ...this.settings },
      clients: [...this.clients.values()],
      users: this.directory.export(),
      codes: this.codes.export(now),
      refreshTokens,
      accessTokens: this.grants.accessTokens.export(now),
      grants,
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
    this.directory.import(records.users);
    this.codes.import(records.codes);
    this.grants.import(records);
    this.grants.accessTokens.import(records.accessTokens);
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
}
