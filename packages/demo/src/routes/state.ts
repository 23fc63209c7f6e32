import type { FastifyPluginAsync } from "fastify";
import { errorResponses } from "steward";
import { DemoState } from "../schemas.js";
import { demoState, type StateDependencies } from "../state.js";
import type { CurrentUser } from "../user.js";

export interface StateRouteOptions {
  user: CurrentUser;
  state: StateDependencies;
}

/** `GET /demo/api/state`: everything the page shows for the signed-in user. */
export const stateRoute: FastifyPluginAsync<StateRouteOptions> = async (app, { user, state }) => {
  app.get(
    "/demo/api/state",
    {
      schema: {
        summary: "The signed-in user, their connection, albums and jobs",
        tags: ["demo"],
        response: { 200: DemoState, ...errorResponses(401, 403, 502) },
      },
    },
    async (request, reply) => {
      const sub = await user(request);
      reply.header("cache-control", "no-store");
      return demoState(state, sub);
    },
  );
};
