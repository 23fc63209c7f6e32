import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";

/** `GET /healthz`: liveness; answers while the process serves HTTP at all. */
export const healthzRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["operations"],
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );
};
