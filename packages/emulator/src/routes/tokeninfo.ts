import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bearerToken } from "../api-auth.js";
import type { EmulatorContext } from "../context.js";
import { oauthParams } from "../form-params.js";
import { sendOAuthError } from "../google-errors.js";
import { SCOPE_ALIASES } from "../model.js";

/**
 * /tokeninfo: the claims of an ID token (`id_token`) or the facts of an access token
 * (`access_token`, or the bearer). Google writes numbers and booleans as strings here.
 */
export function tokeninfoRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const tokeninfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = oauthParams(request.query, request.body);
    const params = parsed.ok ? parsed.params : {};
    if (params.id_token) {
      const claims = await ctx.keys.verify(params.id_token);
      if (claims === undefined) return sendOAuthError(reply, 400, "invalid_token", "Invalid Value");
      return reply.send(stringValues({ ...claims.payload, ...claims.protectedHeader }));
    }
    const accessToken = params.access_token ?? bearerToken(request);
    const record = accessToken ? ctx.state.liveAccessToken(accessToken) : undefined;
    if (record === undefined) return sendOAuthError(reply, 400, "invalid_token", "Invalid Value");
    const user = ctx.state.users.get(record.sub);
    const body: Record<string, string> = {
      azp: record.clientId,
      aud: record.clientId,
      sub: record.sub,
      scope: record.scopes.join(" "),
      exp: String(Math.floor(record.expiresAtMs / 1000)),
      expires_in: String(Math.max(0, Math.floor((record.expiresAtMs - ctx.state.now()) / 1000))),
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
}

/** OpenID userinfo (v3 and openidconnect v1): claims allowed by the token's scopes. */
export function userinfoRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const userinfo = (request: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(request);
    const record = token ? ctx.state.liveAccessToken(token) : undefined;
    const user = record ? ctx.state.users.get(record.sub) : undefined;
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
}

function stringValues(claims: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).map(([name, value]) => [
      name,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}
