import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../plugins/metrics.js";

export interface OpsRouteOptions {
  metrics: Metrics;
  /** Each named check: true when healthy (e.g. `database`, `keys`). */
  readiness: () => Promise<Record<string, boolean>>;
}

/** Liveness, readiness and Prometheus metrics for the operator. */
export function opsRoutes(app: FastifyInstance, options: OpsRouteOptions): void {
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

  const Checks = Type.Object({
    ready: Type.Boolean(),
    checks: Type.Record(Type.String(), Type.Boolean()),
  });
  app.get(
    "/readyz",
    { schema: { tags: ["operations"], response: { 200: Checks, 503: Checks } } },
    async (_request, reply) => {
      const checks = await options.readiness().catch(() => ({ readiness: false }));
      const ready = Object.values(checks).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.get("/metrics", { schema: { tags: ["operations"], hide: true } }, async (_request, reply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
}
