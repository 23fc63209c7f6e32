import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { ApiAuth } from "../../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, SubParams } from "../../../schemas.js";
import {
  askedScopes,
  handOutToken,
  type TokenHandoutDependencies,
} from "../../../token-handout.js";

export interface AccessTokenRouteOptions {
  apiAuth: ApiAuth;
  handout: TokenHandoutDependencies;
}

// A cached token, and so its expiry, is the same object on every call: its text is made once
// (toISOString took ~1 µs of each access-token request).
const expiryTexts = new WeakMap<Date, string>();
function isoText(date: Date): string {
  let text = expiryTexts.get(date);
  if (text === undefined) {
    text = date.toISOString();
    expiryTexts.set(date, text);
  }
  return text;
}

/** `GET /v1/users/{sub}/access-token`: a fresh Google access token for a backend (tokens:read). */
export const accessTokenRoute: FastifyPluginAsyncTypebox<AccessTokenRouteOptions> = async (
  app,
  { apiAuth, handout },
) => {
  app.get(
    "/v1/users/:sub/access-token",
    {
      // The hot path of backends: no per-request info line, refusals included (they are counted
      // in the metrics); a 5xx still logs at error. See docs/configuration.md, Logs.
      logLevel: "warn",
      schema: {
        summary: "A fresh access token for the user (tokens:read)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        params: SubParams,
        querystring: Type.Object({
          scope: Type.Optional(
            Type.Union([Type.String(), Type.Array(Type.String())], {
              description:
                "Scopes the caller needs (repeat, or space-separated); 403 scope_not_granted otherwise.",
            }),
          ),
        }),
        response: {
          200: Type.Object({
            accessToken: Type.String(),
            expiresAt: Type.String({ format: "date-time" }),
            scopes: Type.Array(Type.String()),
          }),
          ...errorResponses(400, 401, 403, 404, 409, 502, 503),
        },
      },
    },
    async (request, reply) => {
      const caller = await apiAuth.require(request, "tokens:read");
      const token = await handOutToken(handout, caller, request.params.sub, {
        scopes: askedScopes(request.query.scope),
      });
      reply.header("cache-control", "no-store");
      return {
        accessToken: token.token,
        expiresAt: isoText(token.expiresAt),
        // The token's own list, not a copy (this is the hot path); the serializer only reads it.
        scopes: token.scopes as string[],
      };
    },
  );
};
