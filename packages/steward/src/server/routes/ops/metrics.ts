import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../../plugins/metrics.js";
import { requireMetricsToken } from "../../plugins/metrics-access.js";

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** The bearer token `/metrics` asks for; none when undefined. */
  token: string | undefined;
}

/**
 * `GET /metrics`, Prometheus' text format; with `token`, only for `Authorization: Bearer token`
 * (401 `unauthenticated` otherwise). Served by the API's app, or by the metrics port's.
 */
export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (
  app,
  { metrics, token },
) => {
  app.get(
    "/metrics",
    {
      schema: { tags: ["operations"], hide: true },
      ...(token === undefined ? {} : { onRequest: requireMetricsToken(token) }),
    },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};
