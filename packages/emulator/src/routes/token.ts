import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { authenticateClient } from "../client-auth.js";
import { oauthParams } from "../form-params.js";
import { sendOAuthError } from "../google-errors.js";
import { type IdTokenSigner, RefreshIdTokens, signIdToken } from "../id-token.js";
import type { EmulatorClient } from "../model.js";
import { OIDC_PROFILE_TOKEN_PATH, oidcProfileIssuer } from "../oidc-profile.js";
import { CODE_SHAPE, hasOpenIdScope, normalizeScopes, pkceMatches } from "../state.js";

/** Google's token endpoint, and the older paths clients still call. */
export const TOKEN_PATHS = ["/token", "/oauth2/v4/token", "/o/oauth2/token"] as const;

type Params = Readonly<Record<string, string>>;

/** The token endpoint: code exchange and refresh, ID tokens signed with the keys. */
export const tokenRoutes: FastifyPluginAsync<IdTokenSigner> = async (app, ctx) => {
  const refreshIdTokens = new RefreshIdTokens(ctx);
  for (const path of TOKEN_PATHS) {
    app.post(path, (request, reply) => token(ctx, refreshIdTokens, request, reply, ctx.issuer));
  }
  // The same endpoint, whose ID tokens carry the OIDC profile's issuer (the emulator's own URL).
  app.post(OIDC_PROFILE_TOKEN_PATH, (request, reply) =>
    token(ctx, refreshIdTokens, request, reply, oidcProfileIssuer(request)),
  );
};

async function token(
  ctx: IdTokenSigner,
  refreshIdTokens: RefreshIdTokens,
  request: FastifyRequest,
  reply: FastifyReply,
  issuer: string,
) {
  const parsed = oauthParams(undefined, request.body);
  if (!parsed.ok) {
    return sendOAuthError(
      reply,
      400,
      "invalid_request",
      `Parameter ${parsed.duplicated} is duplicated.`,
    );
  }
  const { params } = parsed;
  const grantType = params.grant_type ?? "";
  if (grantType !== "authorization_code" && grantType !== "refresh_token") {
    return sendOAuthError(
      reply,
      400,
      "unsupported_grant_type",
      `Invalid grant_type: ${grantType.slice(0, 64)}`,
    );
  }
  const auth = authenticateClient(ctx.state.clients, request, params);
  if (!auth.ok) return sendOAuthError(reply, auth.status, auth.error, auth.description);
  return grantType === "authorization_code"
    ? authorizationCodeGrant(ctx, auth.client, params, reply, issuer)
    : refreshTokenGrant(ctx, refreshIdTokens, auth.client, params, reply, issuer);
}

async function authorizationCodeGrant(
  ctx: IdTokenSigner,
  client: EmulatorClient,
  params: Params,
  reply: FastifyReply,
  issuer: string,
) {
  const { state } = ctx;
  const code = params.code;
  if (!code)
    return sendOAuthError(reply, 400, "invalid_request", "Missing required parameter: code");
  if (!CODE_SHAPE.test(code))
    return sendOAuthError(reply, 400, "invalid_grant", "Malformed auth code.");
  // A missing redirect_uri counts as "": google-auth-library drops an empty one.
  const redirectUri = params.redirect_uri ?? "";
  const record = state.redeemCode(code);
  if (record === undefined || record.clientId !== client.clientId) {
    return sendOAuthError(reply, 400, "invalid_grant", "Bad Request");
  }
  if (!record.redirectUris.includes(redirectUri)) {
    return sendOAuthError(reply, 400, "redirect_uri_mismatch", "Bad Request");
  }
  if (!pkceMatches(record, params.code_verifier)) {
    return sendOAuthError(reply, 400, "invalid_grant", "Invalid code verifier.");
  }
  const user = state.users.get(record.sub);
  if (user === undefined) return sendOAuthError(reply, 400, "invalid_grant", "Bad Request");

  let refreshToken: string | undefined;
  if (record.issueRefreshToken) {
    refreshToken = state.issueRefreshToken(user.sub, client.clientId, record.scopes);
  } else {
    state.recordConsent(user.sub, client.clientId, record.scopes);
  }
  const { accessToken, expiresIn } = state.issueAccessToken(
    user.sub,
    client.clientId,
    record.scopes,
    refreshToken ?? state.grantRefreshToken(user.sub, client.clientId),
  );
  const idToken = hasOpenIdScope(record.scopes)
    ? signIdToken(ctx, {
        issuer,
        user,
        audience: client.clientId,
        authorizedParty: record.authorizedParty,
        scopes: record.scopes,
        accessToken,
        nonce: record.nonce,
      })
    : undefined;
  state.countGrant("authorization_code", user.sub);
  return sendTokens(reply, {
    access_token: accessToken,
    expires_in: expiresIn,
    refresh_token: refreshToken,
    scope: record.scopes.join(" "),
    token_type: "Bearer",
    id_token: idToken,
  });
}

async function refreshTokenGrant(
  ctx: IdTokenSigner,
  refreshIdTokens: RefreshIdTokens,
  client: EmulatorClient,
  params: Params,
  reply: FastifyReply,
  issuer: string,
) {
  const { state } = ctx;
  const refreshToken = params.refresh_token;
  if (!refreshToken) {
    return sendOAuthError(
      reply,
      400,
      "invalid_request",
      "Missing required parameter: refresh_token",
    );
  }
  const record = state.liveRefreshToken(refreshToken);
  if (record === undefined) {
    return sendOAuthError(reply, 400, "invalid_grant", "Token has been expired or revoked.");
  }
  if (record.clientId !== client.clientId) {
    return sendOAuthError(reply, 401, "unauthorized_client", "Unauthorized");
  }
  let scopes = record.scopes;
  if (params.scope) {
    // A refresh may narrow the scopes, never widen them.
    const asked = normalizeScopes(params.scope);
    const extra = asked.filter((scope) => !record.scopes.includes(scope));
    if (extra.length > 0) {
      return sendOAuthError(
        reply,
        400,
        "invalid_scope",
        `Some requested scopes were invalid. {invalid=[${extra.join(", ")}]}`,
      );
    }
    scopes = asked;
  }
  const user = state.users.get(record.sub);
  if (user === undefined) {
    return sendOAuthError(reply, 400, "invalid_grant", "Token has been expired or revoked.");
  }
  const { accessToken, expiresIn } = state.issueAccessToken(
    user.sub,
    client.clientId,
    scopes,
    refreshToken,
  );
  const idToken = hasOpenIdScope(scopes)
    ? refreshIdTokens.get(issuer, user, client.clientId, scopes)
    : undefined;
  state.useRefreshToken(refreshToken);
  state.countGrant("refresh_token", user.sub);
  // A refresh returns no new refresh token.
  return sendTokens(reply, {
    access_token: accessToken,
    expires_in: expiresIn,
    scope: scopes.join(" "),
    token_type: "Bearer",
    id_token: idToken,
  });
}

function sendTokens(reply: FastifyReply, body: Record<string, string | number | undefined>) {
  return reply
    .header("cache-control", "no-cache, no-store, max-age=0, must-revalidate")
    .header("pragma", "no-cache")
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(body));
}
