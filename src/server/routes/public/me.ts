import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type RevokeDependencies, revokeGrant } from "../../../access/revoke.js";
import { StewardError } from "../../../errors.js";
import { type IdTokenRules, verifyIdToken } from "../../../identity/verify-id-token.js";
import { missingScopes } from "../../../shared/index.js";
import { requireAllowedOrigin, requireHttps, requireRequestedWith } from "../../plugins/guards.js";
import { errorResponses, PublicUser, publicUser } from "../../schemas.js";

export interface MeRouteOptions extends RevokeDependencies {
  idTokenRules: IdTokenRules;
  requiredScopes: readonly string[];
  allowedOrigins: readonly string[];
}

const Connection = Type.Object({
  status: Type.Union([
    Type.Literal("active"),
    Type.Literal("revoked"),
    Type.Literal("expired"),
    Type.Literal("none"),
  ]),
  grantedScopes: Type.Array(Type.String()),
  missingScopes: Type.Array(Type.String()),
  offlineAccess: Type.Boolean(),
});

/** The signed-in user's own view, authenticated by their Google ID token as the bearer. */
export function meRoutes(app: FastifyInstance, options: MeRouteOptions): void {
  const { store } = options;
  const authenticate = async (request: FastifyRequest) => {
    requireHttps(request);
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (!match)
      throw new StewardError("unauthenticated", {
        message: "Send your Google ID token as the bearer.",
      });
    return verifyIdToken(match[1] as string, options.idTokenRules);
  };

  app.get(
    "/v1/me",
    {
      config: { rateLimited: true, personal: true },
      schema: {
        summary: "The signed-in user and the state of their Google connection",
        tags: ["public"],
        response: {
          200: Type.Object({ user: PublicUser, connection: Connection }),
          ...errorResponses(401, 403, 404, 429, 502),
        },
      },
    },
    async (request) => {
      const { sub } = await authenticate(request);
      const record = await store.getUser(sub);
      if (record === undefined) throw new StewardError("user_not_found");
      const credential = record.credential;
      const grantedScopes = [...(credential?.grantedScopes ?? [])];
      return {
        user: publicUser(record),
        connection: {
          status: credential?.status ?? "none",
          grantedScopes,
          missingScopes: missingScopes(options.requiredScopes, grantedScopes),
          offlineAccess: credential?.status === "active" && credential.hasRefreshToken,
        },
      };
    },
  );

  app.delete(
    "/v1/me/connection",
    {
      config: { rateLimited: true },
      schema: {
        summary: "Revoke the app's access at Google, then forget the stored tokens",
        tags: ["public"],
        response: {
          200: Type.Object({ revokedAtGoogle: Type.Boolean() }),
          ...errorResponses(401, 403, 429, 502),
        },
      },
      preHandler: async (request) => {
        requireRequestedWith(request);
        requireAllowedOrigin(request, options.allowedOrigins);
      },
    },
    async (request) => {
      const { sub } = await authenticate(request);
      return revokeGrant(options, sub, { reason: "user_disconnected", actor: "user" });
    },
  );
}
