import type { FastifyRequest } from "fastify";
import { type AppContext, StewardError } from "steward";
import type { DemoSessions } from "./session.js";

/** What the demo's caller check uses of Steward. */
export type UserCheck = Pick<AppContext, "requireHttps" | "verifyIdToken">;

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
  steward: UserCheck,
): Promise<string> {
  steward.requireHttps(request);
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
  if (bearer) return steward.verifyIdToken(bearer[1] as string);
  const sub = sessions.verify(request.headers.cookie);
  if (sub === undefined) {
    throw new StewardError("unauthenticated", { message: "Sign in with Google first." });
  }
  return sub;
}

/** The signed-in user's `sub` for a request (see {@link demoUser}). */
export type CurrentUser = (request: FastifyRequest) => Promise<string>;
