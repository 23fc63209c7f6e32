import { ID_TOKEN_CLOCK_SKEW_SECONDS } from "../identity/verify-id-token.js";
import { type Check, fail, ok, skip } from "./check.js";
import { probeTokenEndpoint } from "./token-probe.js";

/**
 * Tolerated difference from Google's clock: a tenth of what ID token verification tolerates, so
 * a drifting clock is caught long before sign-ins fail.
 */
export const CLOCK_SKEW_LIMIT_SECONDS = ID_TOKEN_CLOCK_SKEW_SECONDS / 10;

/** This machine's clock against the `Date` of Google's token endpoint. */
export const clockCheck: Check = async (context) => {
  const { config } = context;
  if (config === undefined || config.google.mode === "emulator") {
    return skip("clock", "needs valid settings");
  }
  context.probe ??= probeTokenEndpoint(config);
  const probe = await context.probe;
  if (!probe.reached) return skip("clock", "needs an answer from Google's token endpoint");
  const dateMs = probe.date === null ? Number.NaN : Date.parse(probe.date);
  if (Number.isNaN(dateMs)) return skip("clock", `${probe.tokenUrl} sent no Date header`);
  // Date has whole seconds, truncated: the server's clock stood within the second after it.
  const skewSeconds = Math.round((dateMs + 500 - probe.midpointMs) / 1000);
  const host = new URL(probe.tokenUrl).host;
  const off =
    skewSeconds === 0
      ? `in step with ${host}`
      : `${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? "behind" : "ahead of"} ${host}`;
  if (Math.abs(skewSeconds) > CLOCK_SKEW_LIMIT_SECONDS) {
    return fail(
      "clock",
      `this machine's clock is ${off} (limit ${CLOCK_SKEW_LIMIT_SECONDS} s; ID tokens are refused past ${ID_TOKEN_CLOCK_SKEW_SECONDS} s)`,
      "synchronise the clock with NTP (timedatectl set-ntp true, or chrony)",
    );
  }
  return ok("clock", `${off}, by its Date header (limit ${CLOCK_SKEW_LIMIT_SECONDS} s)`);
};
