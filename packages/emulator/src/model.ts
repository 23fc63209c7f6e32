/** The emulator's in-memory records. Field names are ours (camelCase); Google's live in routes. */

export type ClientType = "web" | "installed";

export interface EmulatorClient {
  readonly clientId: string;
  /** Installed (iOS, Android) clients may have none. */
  readonly clientSecret: string | undefined;
  readonly type: ClientType;
  readonly redirectUris: readonly string[];
  readonly javascriptOrigins: readonly string[];
  readonly projectId: string;
  /** Overrides the global `publishingStatus` setting for this client's consent screen. */
  readonly publishingStatus?: PublishingStatus | undefined;
}

/** An OAuth consent screen's publishing status: Testing gives refresh tokens a 7-day life. */
export type PublishingStatus = "testing" | "production";

export interface EmulatorUser {
  readonly sub: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly picture: string;
  readonly locale: string;
  readonly hd: string | undefined;
}

/** A one-time authorization code, as minted by a sign-in or the consent page. */
export interface AuthorizationCode {
  readonly clientId: string;
  /** `azp` of the ID token: the app that signed the user in (iOS/Android client, or clientId). */
  readonly authorizedParty: string;
  readonly sub: string;
  readonly scopes: readonly string[];
  /** The `redirect_uri` values the exchange may send. */
  readonly redirectUris: readonly string[];
  /** True when the user saw the consent screen with offline access: a refresh token follows. */
  readonly issueRefreshToken: boolean;
  readonly expiresAtMs: number;
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: "plain" | "S256" | undefined;
}

export interface RefreshTokenRecord {
  readonly sub: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly createdAtMs: number;
  /** Last refresh made with it; Google expires a refresh token unused this long. */
  lastUsedAtMs?: number;
  /** Set when issued to an app in Testing: Google ends such tokens seven days after issue. */
  readonly expiresAtMs?: number | undefined;
  revoked: boolean;
}

export interface AccessTokenRecord {
  readonly sub: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly expiresAtMs: number;
  /** The refresh token this access token came from (or with), if any. */
  readonly refreshToken: string | undefined;
  /** The grant's epoch at issue: a revocation bumps the epoch and so kills every older token. */
  readonly epoch: number;
}

/** What a user has granted one client: the union of consented scopes and the live tokens. */
export interface Grant {
  readonly sub: string;
  readonly clientId: string;
  scopes: Set<string>;
  /** Live refresh tokens, oldest first; at most `refreshTokenLimit`. */
  refreshTokens: string[];
  revoked: boolean;
  /** Bumped by every revocation; access tokens issued before it are dead. */
  epoch: number;
}

export interface EmulatorSettings {
  accessTokenTtlSeconds: number;
  codeTtlSeconds: number;
  idTokenTtlSeconds: number;
  jwksMaxAgeSeconds: number;
  refreshTokenLimit: number;
  /** Wait before redelivering a RISC SET the receiver did not take; doubles each time. */
  riscRetryBaseMs: number;
  /** Attempts to deliver one SET before giving it up. */
  riscMaxAttempts: number;
  /** Added to the `Date` header of every answer: a server clock off by this much, for tests. */
  dateSkewSeconds: number;
  /** The emulator's clock runs this far ahead of the real one (POST /emulator/clock). */
  clockOffsetSeconds: number;
  /** A refresh token unused this long is expired (Google: six months). */
  refreshTokenIdleSeconds: number;
  /** Clients without their own status; `testing` gives refresh tokens a seven-day life. */
  publishingStatus: PublishingStatus;
  /** Life of a refresh token issued to an app in Testing (Google: seven days). */
  testingRefreshTokenSeconds: number;
}

export const DEFAULT_SETTINGS: Readonly<EmulatorSettings> = Object.freeze({
  accessTokenTtlSeconds: 3599,
  codeTtlSeconds: 600,
  idTokenTtlSeconds: 3600,
  jwksMaxAgeSeconds: 21_600,
  refreshTokenLimit: 100,
  riscRetryBaseMs: 1000,
  riscMaxAttempts: 8,
  dateSkewSeconds: 0,
  clockOffsetSeconds: 0,
  refreshTokenIdleSeconds: 183 * 86_400,
  publishingStatus: "production",
  testingRefreshTokenSeconds: 7 * 86_400,
});

/** Google expands the OpenID shorthands in the granted `scope` it returns. */
export const SCOPE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  email: "https://www.googleapis.com/auth/userinfo.email",
  profile: "https://www.googleapis.com/auth/userinfo.profile",
});

export const OPENID_SCOPES = Object.freeze([
  "openid",
  SCOPE_ALIASES.email as string,
  SCOPE_ALIASES.profile as string,
]);
