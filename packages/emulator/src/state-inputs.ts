import type {
  AccessTokenRecord,
  AuthorizationCode,
  ClientType,
  EmulatorClient,
  EmulatorSettings,
  EmulatorUser,
  Grant,
  PublishingStatus,
  RefreshTokenRecord,
} from "./model.js";

/** What the emulator's state takes as input, and the records it persists. */
export interface ClientInput {
  clientId?: string;
  clientSecret?: string;
  type: ClientType;
  redirectUris?: string[];
  javascriptOrigins?: string[];
  publishingStatus?: PublishingStatus;
}

export interface UserInput {
  email: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  picture?: string;
  locale?: string;
  hd?: string;
  emailVerified?: boolean;
}

export interface MintCodeInput {
  clientId: string;
  /** The app that signed the user in, when it differs from `clientId` (the server). */
  authorizedParty?: string | undefined;
  sub: string;
  requestedScopes: readonly string[];
  /** What the user left ticked; defaults to everything requested. OpenID scopes always stay. */
  grantedScopes?: readonly string[] | undefined;
  redirectUris: readonly string[];
  offline: boolean;
  prompt?: string | undefined;
  nonce?: string | undefined;
  codeChallenge?: string | undefined;
  codeChallengeMethod?: "plain" | "S256" | undefined;
}

/**
 * What a persisted emulator keeps of its state (everything but the counters): plain JSON, as
 * `EmulatorState.exportRecords` gives it and `EmulatorState.importRecords` reads it.
 */
export interface StateRecords {
  settings: EmulatorSettings;
  clients: EmulatorClient[];
  users: EmulatorUser[];
  codes: Array<[string, AuthorizationCode]>;
  refreshTokens: Array<[string, RefreshTokenRecord]>;
  accessTokens: Array<[string, AccessTokenRecord]>;
  grants: Array<Omit<Grant, "scopes"> & { scopes: string[] }>;
}
