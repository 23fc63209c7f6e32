import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type RevokeDependencies, revokeGrant } from "../../../access/revoke.js";
import type { IdTokenRules } from "../../../identity/verify-id-token.js";
import { requireAllowedOrigin, requireRequestedWith } from "../../plugins/guards.js";
import { idTokenBearer } from "../../plugins/id-token-bearer.js";
import { errorResponses } from "../../schemas.js";

export interface MeConnectionRouteOptions {
  revoke: RevokeDependencies;
  idTokenRules: IdTokenRules;
  allowedOrigins: readonly string[];
}

/**
 * `DELETE /v1/me/connection`: the signed-in user ends the app's access; Google's grant is
 * revoked, then the stored tokens are forgotten (see access/revoke.ts).
 */
export const meConnectionRoute: FastifyPluginAsyncTypebox<MeConnectionRouteOptions> = async (
  app,
  options,
) => {
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
      const { sub } = await idTokenBearer(request, options.idTokenRules);
      return revokeGrant(options.revoke, sub, { reason: "user_disconnected", actor: "user" });
    },
  );
};
