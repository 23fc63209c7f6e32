import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Jobs } from "../../../jobs/index.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { API_KEY_BEARER, errorResponses, RecentQuery, recentPage } from "../../schemas.js";

export interface JobsRouteOptions {
  apiAuth: ApiAuth;
  jobs: Pick<Jobs, "list">;
}

const JobView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  sub: Type.String(),
  state: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
  completedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
});

/**
 * `GET /v1/jobs`: recent background jobs, newest first, for operators (admin). A job's output
 * is the handler's business and is left out; its error is a code and a public message.
 */
export const jobsRoute: FastifyPluginAsyncTypebox<JobsRouteOptions> = async (app, options) => {
  app.get(
    "/v1/jobs",
    {
      config: { personal: true },
      schema: {
        summary: "Recent background jobs, newest first, optionally of one user (admin)",
        tags: ["internal"],
        security: API_KEY_BEARER,
        querystring: RecentQuery,
        response: {
          200: Type.Object({ jobs: Type.Array(JobView) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      await options.apiAuth.require(request, "admin");
      const jobs = await options.jobs.list(recentPage(request.query));
      return {
        jobs: jobs.map((job) => ({
          id: job.id,
          name: job.name,
          sub: job.sub,
          state: job.state,
          createdAt: job.createdAt.toISOString(),
          completedAt: job.completedAt?.toISOString() ?? null,
          error: job.error,
        })),
      };
    },
  );
};
