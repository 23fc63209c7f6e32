import { type Check, fail, ok, skip } from "./check.js";
import { probeTokenEndpoint } from "./token-probe.js";

/** The Google client (ID and secret) is one Google's token endpoint accepts. */
export const googleClientCheck: Check = async (context) => {
  const { config } = context;
  if (config === undefined || config.google.mode === "emulator") {
    return skip("google", "needs valid settings");
  }
  context.probe ??= probeTokenEndpoint(config);
  const probe = await context.probe;
  const clientId = config.google.client.clientId;
  if (!probe.reached) {
    return fail(
      "google",
      `cannot reach ${probe.tokenUrl}: ${probe.problem}`,
      "allow outbound HTTPS from this machine to Google (firewall, HTTPS proxy, DNS)",
    );
  }
  if (probe.error === "invalid_grant") {
    return ok("google", `client ${clientId} accepted by ${probe.tokenUrl}`);
  }
  if (probe.error === "invalid_client" || probe.error === "unauthorized_client") {
    return fail(
      "google",
      `${probe.tokenUrl} refused client ${clientId} (${probe.error}): its secret does not match, or the client was deleted`,
      "download the web client's JSON again from Google Cloud Console (APIs & Services, " +
        "Credentials) and point GOOGLE_CLIENT_SECRET_FILE at it, or fix GOOGLE_CLIENT_SECRET",
    );
  }
  return fail(
    "google",
    `${probe.tokenUrl} answered ${probe.status} ${probe.error ?? "(no OAuth error)"} to a code that cannot exist`,
    "check that the token endpoint is Google's (token_uri of the client file, STEWARD_GOOGLE)",
  );
};
