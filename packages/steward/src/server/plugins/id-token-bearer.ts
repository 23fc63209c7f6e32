import type { FastifyRequest } from "fastify";
import { StewardError } from "../../errors.js";
import {
  type GoogleIdentity,
  type IdTokenRules,
  verifyIdToken,
} from "../../identity/verify-id-token.js";
import { requireHttps } from "./guards.js";

/**
 * The signed-in user of a public `/v1/me` route: their Google ID token as the bearer, verified
 * (Google's signature, issuer, one of our audiences, not expired), over HTTPS off loopback.
 *
 * @throws StewardError `https_required`, `unauthenticated`; what {@link verifyIdToken} throws.
 */
export async function idTokenBearer(
  request: FastifyRequest,
  rules: IdTokenRules,
): Promise<GoogleIdentity> {
  requireHttps(request);
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  if (!match) {
    throw new StewardError("unauthenticated", {
      message: "Send your Google ID token as the bearer.",
    });
  }
  return verifyIdToken(match[1] as string, rules);
}
