import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { VaultStore } from "../../../../store/store.js";
import type { ApiAuth } from "../../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, PageLimit, Sub } from "../../../schemas.js";
import { UserView, userView } from "./user-view.js";

export interface ListUsersRouteOptions {
  apiAuth: ApiAuth;
  store: Pick<VaultStore, "listUsers">;
}

/** `GET /v1/users`: users a page at a time, by sub, for operators (admin). */
export const listUsersRoute: FastifyPluginAsyncTypebox<ListUsersRouteOptions> = async (
  app,
  { apiAuth, store },
) => {
  app.get(
    "/v1/users",
    {
      config: { personal: true },
      schema: {
        summary: "List users and the state of their Google connection (admin)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        querystring: Type.Object({
          after: Type.Optional(Sub({ description: "Cursor: the last sub of the previous page." })),
          limit: PageLimit(100),
          q: Type.Optional(
            Sub({
              description:
                "Only users whose email starts with this (any case), or whose sub does; `%` and `_` match only themselves.",
            }),
          ),
        }),
        response: {
          200: Type.Object({
            users: Type.Array(UserView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      await apiAuth.require(request, "admin");
      const limit = Number(request.query.limit ?? 100);
      const users = await store.listUsers({
        after: request.query.after,
        limit,
        search: request.query.q,
      });
      return {
        users: users.map(userView),
        nextCursor: users.length === limit ? (users.at(-1)?.sub ?? null) : null,
      };
    },
  );
};
