import { isLoopback, isPrivate } from "./addresses.js";
import { type Check, fail, ok, skip } from "./check.js";

/**
 * `/metrics` (every user's activity, in counts) is not open to whoever reaches the service: it
 * asks for a token, or is served on loopback, or on a port of its own on a private address.
 */
export const metricsCheck: Check = async ({ config }) => {
  if (config === undefined) return skip("metrics", "needs valid settings");
  const { metrics } = config;
  const where = `${metrics.host}:${metrics.port ?? config.port}`;
  if (metrics.token !== undefined) {
    return ok("metrics", `/metrics on ${where} asks for a bearer token (STEWARD_METRICS_TOKEN)`);
  }
  if (isLoopback(metrics.host)) {
    return ok("metrics", `/metrics on ${where}, loopback only, so no token is needed`);
  }
  if (metrics.port !== undefined && isPrivate(metrics.host)) {
    return ok("metrics", `/metrics on a port of its own on a private address (${where}), no token`);
  }
  return fail(
    "metrics",
    `/metrics is served without a token on ${where}, to anyone who reaches it`,
    "set STEWARD_METRICS_TOKEN (32+ characters) and give it to your scraper, or serve it apart: " +
      "STEWARD_METRICS_PORT with STEWARD_METRICS_HOST=127.0.0.1 or a private address",
  );
};
