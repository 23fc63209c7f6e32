import { randomBytes, randomInt } from "node:crypto";
import { googleToken } from "./google-token.js";
import type { EmulatorClient } from "./model.js";
import type { ClientInput } from "./state-inputs.js";

/** A new OAuth client of the project, with Google's id and secret shapes unless given. */
export function newClient(input: ClientInput, projectId: string): EmulatorClient {
  const number = String(randomInt(100_000_000_000, 999_999_999_999));
  return {
    clientId:
      input.clientId ?? `${number}-${randomBytes(16).toString("hex")}.apps.googleusercontent.com`,
    clientSecret:
      input.clientSecret ??
      (input.type === "web" ? googleToken("GOCSPX-", 21).slice(0, 35) : undefined),
    type: input.type,
    redirectUris: input.redirectUris ?? (input.type === "installed" ? ["http://localhost"] : []),
    javascriptOrigins: input.javascriptOrigins ?? [],
    projectId,
    publishingStatus: input.publishingStatus,
  };
}
