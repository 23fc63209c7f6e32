import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AccessTokens } from "../access-tokens.js";
import { bearerToken } from "../api-auth.js";
import { sendOAuthError } from "../google-errors.js";
import { type EmulatorUser, SCOPE_ALIASES } from "../model.js";

/** OpenID userinfo (v3 and openidconnect v1): claims allowed by the token's scopes. */
export const userinfoRoutes: FastifyPluginAsync<{
  accessTokens: AccessTokens;
  users: ReadonlyMap<string, EmulatorUser>;
}> = async (app, { accessTokens, users }) => {
  const userinfo = (request: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(request);
    const record = token ? accessTokens.live(token) : undefined;
    const user = record ? users.get(record.sub) : undefined;
    if (record === undefined || user === undefined) {
      reply.header(
        "www-authenticate",
        'Bearer realm="https://accounts.google.com/", error="invalid_token"',
      );
      return sendOAuthError(reply, 401, "invalid_request", "Invalid Credentials");
    }
    const body: Record<string, unknown> = { sub: user.sub };
    if (record.scopes.includes(SCOPE_ALIASES.profile as string)) {
      Object.assign(body, {
        name: user.name,
        given_name: user.givenName || undefined,
        family_name: user.familyName || undefined,
        picture: user.picture,
        locale: user.locale,
      });
    }
    if (record.scopes.includes(SCOPE_ALIASES.email as string)) {
      Object.assign(body, { email: user.email, email_verified: user.emailVerified });
    }
    if (user.hd !== undefined) body.hd = user.hd;
    return reply.send(body);
  };
  for (const path of ["/oauth2/v3/userinfo", "/v1/userinfo"]) {
    app.get(path, userinfo);
    app.post(path, userinfo);
  }
};
