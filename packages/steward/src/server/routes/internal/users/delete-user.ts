import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { deleteUser } from "../../../../access/delete-user.js";
import type { RevokeDependencies } from "../../../../access/revoke.js";
import type { ApiAuth } from "../../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, SubParams } from "../../../schemas.js";

export interface DeleteUserRouteOptions {
  apiAuth: ApiAuth;
  revoke: RevokeDependencies;
}

/** `DELETE /v1/users/{sub}`: revoke the user's grant at Google, then forget them (admin). */
export const deleteUserRoute: FastifyPluginAsyncTypebox<DeleteUserRouteOptions> = async (
  app,
  { apiAuth, revoke },
) => {
  app.delete(
    "/v1/users/:sub",
    {
      schema: {
        summary: "Revoke the user's grant at Google, then forget the user (admin)",
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
      return deleteUser(revoke, request.params.sub, {
        reason: "deleted_by_admin",
        actor: caller.id,
      });
    },
  );
};
