import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { type AppContext, errorResponses, StewardError } from "steward";
import { ENHANCE_JOB } from "../enhance-photo.js";
import { MediaItemId } from "../schemas.js";
import type { CurrentUser } from "../user.js";

export interface EnhanceRouteOptions {
  user: CurrentUser;
  guard: AppContext["guardBrowserPost"];
  /** Absent when the service runs no jobs: the route then answers 404. */
  jobs: Pick<NonNullable<AppContext["jobs"]>, "enqueue"> | undefined;
}

/** `POST /demo/api/enhance`: queues the enhancing job for a photo; the page may be closed. */
export const enhanceRoute: FastifyPluginAsync<EnhanceRouteOptions> = async (
  app,
  { user, guard, jobs },
) => {
  app.post<{ Body: { mediaItemId: string } }>(
    "/demo/api/enhance",
    {
      config: { rateLimited: true },
      preHandler: guard,
      schema: {
        summary: "Enqueue the enhancing job for a photo; the page may be closed",
        tags: ["demo"],
        body: Type.Object({ mediaItemId: MediaItemId }, { additionalProperties: false }),
        response: {
          202: Type.Object({ jobId: Type.String() }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const sub = await user(request);
      if (!jobs) throw new StewardError("not_found", { message: "This service runs no jobs." });
      // A second click while the job is queued or running gets the same job.
      const { mediaItemId } = request.body;
      const jobId = await jobs.enqueue(
        ENHANCE_JOB,
        sub,
        { mediaItemId },
        { singletonKey: `${sub}:${mediaItemId}` },
      );
      return reply.code(202).send({ jobId });
    },
  );
};
