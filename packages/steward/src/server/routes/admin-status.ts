import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";

export interface AdminStatusRouteOptions {
  adminTokenConfigured: boolean;
}

/**
 * `GET /admin/status`: whether STEWARD_ADMIN_TOKEN is set, so that the admin page can say it is
 * off and how to turn it on rather than "not valid". Unauthenticated: it tells no more than the
 * page's own 401 would, and nothing about the token itself.
 */
export const adminStatusRoute: FastifyPluginAsyncTypebox<AdminStatusRouteOptions> = async (
  app,
  { adminTokenConfigured },
) => {
  app.get(
    "/admin/status",
    {
      schema: {
        summary: "Whether an admin token is configured (for the admin page)",
        tags: ["operations"],
        response: { 200: Type.Object({ adminTokenConfigured: Type.Boolean() }) },
      },
    },
    async (_request, reply) =>
      reply.header("cache-control", "no-store").send({ adminTokenConfigured }),
  );
};
