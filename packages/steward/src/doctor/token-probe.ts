import type { Config } from "../config/load.js";
import { emulatorEndpoints, GOOGLE_ENDPOINTS } from "../google/endpoints.js";
import { messageOf, type TokenProbe } from "./check.js";

/** No code Google ever issued: redeeming it spends nothing and grants nothing. */
const PROBE_CODE = "4/steward-doctor-probe";

/**
 * Asks Google's token endpoint to redeem a code that cannot exist, authenticating the client as
 * the service does (client_secret_post). Google checks the client first: `invalid_client` when
 * it refuses the client, `invalid_grant` when it accepts it and then refuses the code.
 */
export async function probeTokenEndpoint(config: Config): Promise<TokenProbe> {
  const google = config.google;
  if (google.mode === "emulator") throw new TypeError("the emulator's URL is not known yet");
  const tokenUrl =
    google.mode === "google"
      ? (google.client.tokenUri ?? GOOGLE_ENDPOINTS.tokenUrl)
      : emulatorEndpoints(google.baseUrl).tokenUrl;
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: PROBE_CODE,
    redirect_uri: "postmessage",
    client_id: google.client.clientId,
    client_secret: google.client.clientSecret,
  });
  const sentMs = Date.now();
  try {
    const response = await fetch(tokenUrl, {
      method: "POST",
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const midpointMs = (sentMs + Date.now()) / 2;
    const answer = (await response.json().catch(() => ({}))) as { error?: unknown };
    return {
      reached: true,
      tokenUrl,
      status: response.status,
      error: typeof answer.error === "string" ? answer.error : undefined,
      date: response.headers.get("date"),
      midpointMs,
    };
  } catch (error) {
    return { reached: false, tokenUrl, problem: messageOf(error) };
  }
}
