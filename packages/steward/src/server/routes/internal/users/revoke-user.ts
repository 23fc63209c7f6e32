import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { type RevokeDependencies, revokeGrant } from "../../../../access/revoke.js";
import { StewardError } from "../../../../errors.js";
import type { ApiAuth } from "../../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, SubParams } from "../../../schemas.js";

export interface RevokeUserRouteOptions {
  apiAuth: ApiAuth;
  revoke: RevokeDependencies;
}

/**
 * `POST /v1/users/{sub}/revoke`: the user stays, with status `revoked`: their jobs now fail with
 * credential_revoked and the app can ask them to sign in again (admin).
 */
export const revokeUserRoute: FastifyPluginAsyncTypebox<RevokeUserRouteOptions> = async (
  app,
  { apiAuth, revoke },
) => {
  app.post(
    "/v1/users/:sub/revoke",
    {
      schema: {
        summary: "Revoke the user's grant at Google and mark it revoked, keeping the user (admin)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        params: SubParams,
        response: {
          200: Type.Object({ revokedAtGoogle: Type.Boolean() }),
          ...errorResponses(400, 401, 403, 404, 502),
        },
      },
    },
    async (request) => {
      const caller = await apiAuth.require(request, "admin");
      const { sub } = request.params;
      if ((await revoke.store.getUser(sub)) === undefined) throw new StewardError("user_not_found");
      return revokeGrant(revoke, sub, { reason: "revoked_by_admin", actor: caller.id });
    },
  );
};
