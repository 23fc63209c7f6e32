import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";

export interface ReadyzRouteOptions {
  /** Each named check: true when healthy (e.g. `database`, `keys`). */
  readiness: () => Promise<Record<string, boolean>>;
}

const Checks = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Record(Type.String(), Type.Boolean()),
});

/** `GET /readyz`: readiness, 200 when every check passes, 503 otherwise; a failing check counts. */
export const readyzRoute: FastifyPluginAsyncTypebox<ReadyzRouteOptions> = async (
  app,
  { readiness },
) => {
  app.get(
    "/readyz",
    { schema: { tags: ["operations"], response: { 200: Checks, 503: Checks } } },
    async (_request, reply) => {
      const checks = await readiness().catch(() => ({ readiness: false }));
      const ready = Object.values(checks).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );
};
