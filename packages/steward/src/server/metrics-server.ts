import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Config } from "../config/load.js";
import { REQUEST_SERIALIZERS } from "./logger.js";
import {
  answerClientError,
  answerFrameworkError,
  registerErrorHandling,
} from "./plugins/errors.js";
import { isLoopback } from "./plugins/guards.js";
import type { Metrics } from "./plugins/metrics.js";
import { metricsRoute } from "./routes/ops/metrics.js";

export interface MetricsAppOptions {
  metrics: Metrics;
  /** The bearer token `/metrics` asks for; none when undefined. */
  token: string | undefined;
  /** A pino logger; silent when absent. Scrapes are frequent: only warnings and up are written. */
  logger?: FastifyBaseLogger;
  https?: { key: Buffer; cert: Buffer };
}

/**
 * The app of `STEWARD_METRICS_PORT`: `GET /metrics` and nothing else (404 `not_found`), in the
 * API's error envelope. A port of its own lets the operator keep metrics off the API's network.
 */
export function buildMetricsApp(options: MetricsAppOptions): FastifyInstance {
  const app = Fastify({
    ...(options.logger
      ? {
          loggerInstance: options.logger.child(
            { server: "metrics" },
            { level: "warn", serializers: REQUEST_SERIALIZERS },
          ),
        }
      : { logger: false }),
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  registerErrorHandling(app);
  app.register(metricsRoute, { metrics: options.metrics, token: options.token });
  return app;
}

/**
 * Where `/metrics` is served to anyone who can reach it: a listen address off loopback (every
 * interface included) without `STEWARD_METRICS_TOKEN`; undefined when it is not.
 */
export function openMetricsAddress(config: Config): { host: string; port: number } | undefined {
  const { metrics } = config;
  const host = metrics.port === undefined ? config.host : metrics.host;
  if (metrics.token !== undefined || host === "localhost" || isLoopback(host)) return undefined;
  return { host, port: metrics.port ?? config.port };
}
