import { AccessTokens } from "./access-tokens.js";
import { googleToken } from "./google-token.js";
import type {
  AccessTokenRecord,
  EmulatorClient,
  EmulatorSettings,
  Grant,
  RefreshTokenRecord,
} from "./model.js";
import type { StateRecords } from "./state-inputs.js";

/** A grant as the control API and RISC events see it. */
export interface GrantView {
  clientId: string;
  scopes: string[];
  revoked: boolean;
  refreshTokens: Array<{ token: string; revoked: boolean; createdAt: string }>;
}

/**
 * What each user granted each client, and the tokens that carry it: refresh tokens (`1//0…`),
 * with Google's limits and expiries, and the access tokens minted from them. Revoking any token
 * ends the whole grant, as at Google.
 */
export class Grants {
  readonly accessTokens: AccessTokens;
  private readonly grants = new Map<string, Grant>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();

  constructor(
    private readonly now: () => number,
    private readonly settings: EmulatorSettings,
    /** The clients, whose own publishing status may shorten their refresh tokens' life. */
    private readonly clients: ReadonlyMap<string, EmulatorClient>,
  ) {
    this.accessTokens = new AccessTokens(now, settings, (record) => this.stillGranted(record));
  }

  /**
   * True when asking for these scopes shows the consent screen: the first consent of this
   * (user, client), a grant revoked since or without a refresh token, or new scopes.
   */
  needsConsent(sub: string, clientId: string, scopes: readonly string[]): boolean {
    const grant = this.grants.get(grantKey(sub, clientId));
    return (
      grant === undefined ||
      grant.revoked ||
      grant.refreshTokens.length === 0 ||
      scopes.some((scope) => !grant.scopes.has(scope))
    );
  }

  /** Records the consent and returns a new refresh token, evicting the oldest past the limit. */
  issueRefreshToken(sub: string, clientId: string, scopes: readonly string[]): string {
    const grant = this.liveGrant(sub, clientId);
    for (const scope of scopes) grant.scopes.add(scope);
    const refreshToken = googleToken("1//0", 72);
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

  issueAccessToken(
    sub: string,
    clientId: string,
    scopes: readonly string[],
    refreshToken: string | undefined,
  ): { accessToken: string; expiresIn: number } {
    const epoch = this.grants.get(grantKey(sub, clientId))?.epoch ?? 0;
    return this.accessTokens.issue(sub, clientId, scopes, refreshToken, epoch);
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
    this.dropRefreshToken(refreshToken, record);
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
    this.dropRefreshToken(refreshToken, record);
    return true;
  }

  /**
   * /revoke: an access or refresh token. Like Google, revoking either ends the whole grant of
   * that (user, client): every refresh and access token. False when the token is unknown or dead.
   */
  revokeToken(tokenValue: string): boolean {
    const owner = this.liveRefreshToken(tokenValue) ?? this.accessTokens.live(tokenValue);
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

  grantsOf(sub: string): GrantView[] {
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

  /** The grants and refresh tokens as a persisted emulator saves them. */
  export(): Pick<StateRecords, "refreshTokens" | "grants"> {
    return {
      refreshTokens: [...this.refreshTokens],
      grants: [...this.grants.values()].map((grant) => ({
        ...grant,
        scopes: [...grant.scopes],
        refreshTokens: [...grant.refreshTokens],
      })),
    };
  }

  import(records: Pick<StateRecords, "refreshTokens" | "grants">): void {
    this.refreshTokens.clear();
    for (const [token, record] of records.refreshTokens) this.refreshTokens.set(token, record);
    this.grants.clear();
    for (const grant of records.grants) {
      this.grants.set(grantKey(grant.sub, grant.clientId), {
        ...grant,
        scopes: new Set(grant.scopes),
      });
    }
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

  /** An access token's grant still stands: not revoked since, its refresh token alive. */
  private stillGranted(record: AccessTokenRecord): boolean {
    const grant = this.grants.get(grantKey(record.sub, record.clientId));
    return (
      grant !== undefined &&
      grant.epoch === record.epoch &&
      !(
        record.refreshToken !== undefined &&
        this.refreshTokens.get(record.refreshToken)?.revoked === true
      )
    );
  }

  /** Kills a refresh token and takes it off its grant's list. */
  private dropRefreshToken(refreshToken: string, record: RefreshTokenRecord): void {
    this.killRefreshToken(refreshToken);
    const grant = this.grants.get(grantKey(record.sub, record.clientId));
    if (grant) grant.refreshTokens = grant.refreshTokens.filter((value) => value !== refreshToken);
  }

  /** Its access tokens die with it: a live access token checks its refresh token. */
  private killRefreshToken(refreshToken: string): void {
    const record = this.refreshTokens.get(refreshToken);
    if (record) record.revoked = true;
  }
}

function grantKey(sub: string, clientId: string): string {
  return `${sub} ${clientId}`;
}
