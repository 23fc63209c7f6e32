import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../plugins/metrics.js";
import { requireMetricsToken } from "../plugins/metrics-access.js";

export interface OpsRouteOptions {
  metrics: Metrics;
  /** Each named check: true when healthy (e.g. `database`, `keys`). */
  readiness: () => Promise<Record<string, boolean>>;
  /** Where `/metrics` is: here (with the bearer token it asks for, if any), or not here. */
  metricsRoute: { token: string | undefined } | false;
}

/** Liveness, readiness and (unless served on a port of their own) Prometheus metrics. */
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

  if (options.metricsRoute) metricsRoute(app, options.metrics, options.metricsRoute.token);
}

/**
 * `GET /metrics`, Prometheus' text format; with `token`, only for `Authorization: Bearer token`
 * (401 `unauthenticated` otherwise).
 */
export function metricsRoute(app: FastifyInstance, metrics: Metrics, token: string | undefined) {
  app.get(
    "/metrics",
    {
      schema: { tags: ["operations"], hide: true },
      ...(token === undefined ? {} : { onRequest: requireMetricsToken(token) }),
    },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
