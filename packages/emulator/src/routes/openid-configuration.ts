import type { FastifyPluginAsync } from "fastify";
import { baseUrlOf } from "../base-url.js";
import {
  OIDC_PROFILE_PREFIX,
  OIDC_PROFILE_TOKEN_PATH,
  oidcProfileIssuer,
} from "../oidc-profile.js";

/** Google's OpenID discovery document, and the OIDC profile's (the emulator's own issuer). */
export const openIdConfigurationRoutes: FastifyPluginAsync<{ issuer: string }> = async (
  app,
  { issuer },
) => {
  app.get("/.well-known/openid-configuration", (request, reply) =>
    reply
      .header("cache-control", "public, max-age=3600")
      .send(openIdConfiguration(baseUrlOf(request), issuer, "/token")),
  );
  app.get(`${OIDC_PROFILE_PREFIX}/.well-known/openid-configuration`, (request, reply) =>
    reply
      .header("cache-control", "public, max-age=3600")
      .send(
        openIdConfiguration(
          baseUrlOf(request),
          oidcProfileIssuer(request),
          OIDC_PROFILE_TOKEN_PATH,
        ),
      ),
  );
};

/** Google's discovery document; the two profiles differ only in issuer and token endpoint. */
function openIdConfiguration(base: string, issuer: string, tokenPath: string) {
  return {
    issuer,
    authorization_endpoint: `${base}/o/oauth2/v2/auth`,
    token_endpoint: `${base}${tokenPath}`,
    userinfo_endpoint: `${base}/v1/userinfo`,
    revocation_endpoint: `${base}/revoke`,
    jwks_uri: `${base}/oauth2/v3/certs`,
    response_types_supported: [
      "code",
      "token",
      "id_token",
      "code token",
      "code id_token",
      "token id_token",
      "code token id_token",
      "none",
    ],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    scopes_supported: ["openid", "email", "profile"],
    token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
    claims_supported: [
      "aud",
      "email",
      "email_verified",
      "exp",
      "family_name",
      "given_name",
      "iat",
      "iss",
      "locale",
      "name",
      "picture",
      "sub",
    ],
    code_challenge_methods_supported: ["plain", "S256"],
    grant_types_supported: ["authorization_code", "refresh_token"],
  };
}
