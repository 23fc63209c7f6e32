import type { FastifyRequest } from "fastify";
import { baseUrlOf } from "./base-url.js";

/**
 * The emulator's second OpenID Connect profile, for strict OIDC clients (openid-client's
 * `discovery()`) that require the discovery document's issuer to be the URL they discovered it
 * at. Under this prefix the issuer is the emulator's own URL (`{base}/oidc`), and ID tokens
 * minted by its token endpoint carry that `iss`; everything else (keys, consent, userinfo,
 * revocation) is shared. The default profile keeps Google's `https://accounts.google.com`.
 */
export const OIDC_PROFILE_PREFIX = "/oidc";

/** The token endpoint of the OIDC profile. */
export const OIDC_PROFILE_TOKEN_PATH = `${OIDC_PROFILE_PREFIX}/token`;

/** The profile's issuer, at the emulator as this client reached it. */
export function oidcProfileIssuer(request: FastifyRequest): string {
  return `${baseUrlOf(request)}${OIDC_PROFILE_PREFIX}`;
}
