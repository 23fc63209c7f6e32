import { accessTokenHash, type SigningKeys } from "./keys.js";
import { type EmulatorUser, SCOPE_ALIASES } from "./model.js";
import type { EmulatorState } from "./state.js";

/** What signing an ID token takes: the clock and TTL, the keys, and the default issuer. */
export interface IdTokenSigner {
  readonly state: EmulatorState;
  readonly keys: SigningKeys;
  readonly issuer: string;
}

export interface IdTokenInput {
  /** `iss`; the context's issuer unless the OIDC profile's token endpoint minted it. */
  issuer?: string | undefined;
  user: EmulatorUser;
  audience: string;
  authorizedParty: string;
  scopes: readonly string[];
  accessToken?: string | undefined;
  nonce?: string | undefined;
}

/**
 * Signs an ID token the way Google shapes it: email claims with the email scope, profile claims
 * with the profile scope, `at_hash` when it travels with an access token, `hd` for Workspace users.
 */
export function signIdToken(ctx: IdTokenSigner, input: IdTokenInput): string {
  const { user, scopes } = input;
  const iat = Math.floor(ctx.state.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: input.issuer ?? ctx.issuer,
    azp: input.authorizedParty,
    aud: input.audience,
    sub: user.sub,
  };
  if (user.hd !== undefined) claims.hd = user.hd;
  if (scopes.includes(SCOPE_ALIASES.email as string)) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  if (input.accessToken !== undefined) claims.at_hash = accessTokenHash(input.accessToken);
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  if (scopes.includes(SCOPE_ALIASES.profile as string)) {
    claims.name = user.name;
    claims.picture = user.picture;
    // Google leaves out a name part the account does not have (a one-word name).
    if (user.givenName) claims.given_name = user.givenName;
    if (user.familyName) claims.family_name = user.familyName;
    claims.locale = user.locale;
  }
  claims.iat = iat;
  claims.exp = iat + ctx.state.settings.idTokenTtlSeconds;
  return ctx.keys.sign(claims);
}

interface CachedIdToken {
  readonly idToken: string;
  readonly kid: string;
  readonly reuseUntilMs: number;
}

/**
 * ID tokens returned by refresh grants, reused for half their lifetime (and until a key rotation)
 * per (issuer, user, client, scopes). Signing is the one costly step of a refresh; without at_hash (which
 * OpenID Connect makes optional at the token endpoint) a refresh's ID token need not be new.
 */
export class RefreshIdTokens {
  private readonly cache = new Map<string, CachedIdToken>();

  constructor(private readonly ctx: IdTokenSigner) {}

  get(issuer: string, user: EmulatorUser, clientId: string, scopes: readonly string[]): string {
    const { state, keys } = this.ctx;
    const key = `${issuer} ${user.sub} ${clientId} ${scopes.join(" ")}`;
    const cached = this.cache.get(key);
    if (cached && cached.kid === keys.currentKid && cached.reuseUntilMs > state.now()) {
      return cached.idToken;
    }
    const idToken = signIdToken(this.ctx, {
      issuer,
      user,
      audience: clientId,
      authorizedParty: clientId,
      scopes,
    });
    const halfLifeMs = (state.settings.idTokenTtlSeconds * 1000) / 2;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { idToken, kid: keys.currentKid, reuseUntilMs: state.now() + halfLifeMs });
    return idToken;
  }
}
