import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { StewardError } from "../../../errors.js";
import type { IdTokenRules } from "../../../identity/verify-id-token.js";
import { missingScopes } from "../../../shared/scopes.js";
import type { VaultStore } from "../../../store/store.js";
import { idTokenBearer } from "../../plugins/id-token-bearer.js";
import { errorResponses, PublicUser, publicUser } from "../../schemas.js";

export interface MeRouteOptions {
  store: Pick<VaultStore, "getUser">;
  idTokenRules: IdTokenRules;
  requiredScopes: readonly string[];
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

/** `GET /v1/me`: the signed-in user's own view, authenticated by their Google ID token. */
export const meRoute: FastifyPluginAsyncTypebox<MeRouteOptions> = async (app, options) => {
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
      const { sub } = await idTokenBearer(request, options.idTokenRules);
      const record = await options.store.getUser(sub);
      if (record === undefined) throw new StewardError("user_not_found");
      const credential = record.credential;
      const grantedScopes = [...(credential?.grantedScopes ?? [])];
      return {
        user: publicUser(record),
        connection: {
          status: credential?.status ?? ("none" as const),
          grantedScopes,
          missingScopes: missingScopes(options.requiredScopes, grantedScopes),
          offlineAccess: credential?.status === "active" && credential.hasRefreshToken,
        },
      };
    },
  );
};
