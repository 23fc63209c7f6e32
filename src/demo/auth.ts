import type { FastifyRequest } from "fastify";
import { StewardError } from "../errors.js";
import { type IdTokenRules, verifyIdToken } from "../identity/verify-id-token.js";
import { requireHttps } from "../server/plugins/guards.js";
import type { DemoSessions } from "./session.js";

/**
 * Who calls the demo API: the page's session cookie, or (for scripts and native clients) the
 * user's Google ID token as the bearer, verified exactly as `/v1/me` verifies it.
 *
 * @throws StewardError `https_required`, `unauthenticated` (no credential, or a session that is
 *   not ours or has expired), `id_token_invalid` (a bearer that fails verification).
 */
export async function demoUser(
  request: FastifyRequest,
  sessions: DemoSessions,
  idTokenRules: IdTokenRules,
): Promise<string> {
  requireHttps(request);
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  if (bearer) return (await verifyIdToken(bearer[1] as string, idTokenRules)).sub;
  const sub = sessions.verify(request.headers.cookie);
  if (sub === undefined) {
    throw new StewardError("unauthenticated", { message: "Sign in with Google first." });
  }
  return sub;
}
