import { StewardError } from "../errors.js";
import type { EventBus } from "../events/bus.js";
import { type IdTokenRules, verifyIdToken } from "../identity/verify-id-token.js";
import type { OAuthClient } from "../oauth/client.js";
import { authorizationCodeGrant } from "../oauth/grants.js";
import { missingScopes } from "../shared/index.js";
import type { User, VaultStore } from "../store/index.js";

export interface SignInDependencies {
  oauth: OAuthClient;
  idTokenRules: IdTokenRules;
  store: VaultStore;
  requiredScopes: readonly string[];
  /** Told of new grants (`credential.created`), when given. */
  events?: EventBus;
}

export interface SignInResult {
  user: User;
  grantedScopes: string[];
  /** Scopes of `STEWARD_REQUIRED_SCOPES` the user did not grant. */
  missingScopes: string[];
  /** False when Google sent no refresh token and none is stored: the app must ask for consent. */
  offlineAccess: boolean;
}

/**
 * Turns a one-time code into a verified, stored user: check the database answers (a code is
 * spent by its exchange, so it is not exchanged when it could not be stored), exchange (once,
 * never retried), verify the ID token (with `at_hash` against the access token), then commit the
 * profile keyed by `sub`, the sealed tokens and the `user.signed_in` audit event in one
 * transaction. A response without a refresh token keeps the stored one.
 *
 * @throws StewardError `database_unavailable` (before the exchange: the code is still good);
 *   `invalid_grant`, `redirect_uri_mismatch`, `client_rejected`, `upstream_rejected`,
 *   `upstream_unavailable` (exchange); `id_token_invalid` (verification). Nothing is stored when
 *   any of them is thrown.
 */
export async function completeSignIn(
  deps: SignInDependencies,
  input: { code: string; redirectUri: string },
): Promise<SignInResult> {
  // One round trip per sign-in, against a Google exchange that costs far more. A flag kept from
  // past failures would be stale both ways (an outage nobody has met yet, a recovery not noticed).
  await deps.store.ping();
  const tokens = await authorizationCodeGrant(deps.oauth, input.code, input.redirectUri);
  if (tokens.idToken === undefined) {
    throw new StewardError("id_token_invalid", {
      detail: "the token response has no id_token (was the openid scope requested?)",
    });
  }
  const identity = await verifyIdToken(tokens.idToken, deps.idTokenRules, {
    accessToken: tokens.accessToken,
  });
  // A refresh token means a (new) grant of offline access; a repeat sign-in brings none.
  const created = { sub: identity.sub, grantedScopes: tokens.scopes };
  const { user, credential } = await deps.store.recordSignIn({
    profile: {
      sub: identity.sub,
      email: identity.email ?? null,
      emailVerified: identity.emailVerified,
      name: identity.name ?? null,
      picture: identity.picture ?? null,
      locale: identity.locale ?? null,
      givenName: identity.givenName ?? null,
      familyName: identity.familyName ?? null,
      hd: identity.hd ?? null,
    },
    credential: {
      grantedScopes: tokens.scopes,
      refreshToken: tokens.refreshToken,
      accessToken: { token: tokens.accessToken, expiresAt: tokens.expiresAt },
      events: [{ event: "credential.created", payload: created }],
    },
    audit: {
      type: "user.signed_in",
      actor: "user",
      data: {
        grantedScopes: tokens.scopes,
        refreshTokenReceived: tokens.refreshToken !== undefined,
        authorizedParty: identity.authorizedParty ?? null,
      },
    },
  });
  if (tokens.refreshToken !== undefined) deps.events?.emit("credential.created", created);
  const offlineAccess = credential?.status === "active" && credential.hasRefreshToken;
  // What the stored grant holds: a repeat sign-in's code may carry fewer scopes than it.
  const grantedScopes = offlineAccess ? [...credential.grantedScopes] : tokens.scopes;
  return {
    user,
    grantedScopes,
    missingScopes: missingScopes(deps.requiredScopes, grantedScopes),
    offlineAccess,
  };
}
