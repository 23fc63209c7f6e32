import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AccessTokens } from "../access-tokens.js";
import { bearerToken } from "../api-auth.js";
import { oauthParams } from "../form-params.js";
import { sendOAuthError } from "../google-errors.js";
import type { SigningKeys } from "../keys.js";
import { type EmulatorUser, SCOPE_ALIASES } from "../model.js";

/**
 * /tokeninfo: the claims of an ID token (`id_token`) or the facts of an access token
 * (`access_token`, or the bearer). Google writes numbers and booleans as strings here.
 */
export const tokeninfoRoutes: FastifyPluginAsync<{
  keys: SigningKeys;
  accessTokens: AccessTokens;
  users: ReadonlyMap<string, EmulatorUser>;
  now: () => number;
}> = async (app, { keys, accessTokens, users, now }) => {
  const tokeninfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = oauthParams(request.query, request.body);
    const params = parsed.ok ? parsed.params : {};
    if (params.id_token) {
      const claims = await keys.verify(params.id_token);
      if (claims === undefined) return sendOAuthError(reply, 400, "invalid_token", "Invalid Value");
      return reply.send(stringValues({ ...claims.payload, ...claims.protectedHeader }));
    }
    const accessToken = params.access_token ?? bearerToken(request);
    const record = accessToken ? accessTokens.live(accessToken) : undefined;
    if (record === undefined) return sendOAuthError(reply, 400, "invalid_token", "Invalid Value");
    const user = users.get(record.sub);
    const body: Record<string, string> = {
      azp: record.clientId,
      aud: record.clientId,
      sub: record.sub,
      scope: record.scopes.join(" "),
      exp: String(Math.floor(record.expiresAtMs / 1000)),
      expires_in: String(Math.max(0, Math.floor((record.expiresAtMs - now()) / 1000))),
      access_type: record.refreshToken ? "offline" : "online",
    };
    if (user && record.scopes.includes(SCOPE_ALIASES.email as string)) {
      body.email = user.email;
      body.email_verified = String(user.emailVerified);
    }
    return reply.send(body);
  };
  for (const path of ["/tokeninfo", "/oauth2/v3/tokeninfo"]) {
    app.get(path, tokeninfo);
    app.post(path, tokeninfo);
  }
};

function stringValues(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).map(([name, value]) => [
      name,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}
