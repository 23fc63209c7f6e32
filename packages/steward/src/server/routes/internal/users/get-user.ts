import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { StewardError } from "../../../../errors.js";
import type { VaultStore } from "../../../../store/store.js";
import type { ApiAuth } from "../../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, SubParams } from "../../../schemas.js";
import { UserView, userView } from "./user-view.js";

export interface GetUserRouteOptions {
  apiAuth: ApiAuth;
  store: Pick<VaultStore, "getUser">;
}

/** `GET /v1/users/{sub}`: one user and the state of their Google connection (admin). */
export const getUserRoute: FastifyPluginAsyncTypebox<GetUserRouteOptions> = async (
  app,
  { apiAuth, store },
) => {
  app.get(
    "/v1/users/:sub",
    {
      config: { personal: true },
      schema: {
        summary: "A user and the state of their Google connection (admin)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        params: SubParams,
        response: { 200: UserView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await apiAuth.require(request, "admin");
      const record = await store.getUser(request.params.sub);
      if (record === undefined) throw new StewardError("user_not_found");
      return userView(record);
    },
  );
};
