import { writeFile } from "node:fs/promises";
import type { EmulatorClient } from "./model.js";

/** What a `client_secret.json` tells of a client. */
export type ClientSecretFields = Pick<
  EmulatorClient,
  "clientId" | "projectId" | "redirectUris" | "javascriptOrigins"
> & { readonly clientSecret?: string | undefined };

/**
 * A web client's `client_secret.json`, shaped exactly as Google's console gives it, with every
 * URL at the emulator, so code that loads such a file finds the emulator.
 */
export function clientSecretJson(baseUrl: string, client: ClientSecretFields) {
  return {
    web: {
      client_id: client.clientId,
      project_id: client.projectId,
      auth_uri: `${baseUrl}/o/oauth2/auth`,
      token_uri: `${baseUrl}/token`,
      auth_provider_x509_cert_url: `${baseUrl}/oauth2/v1/certs`,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      javascript_origins: client.javascriptOrigins,
    },
  };
}

/** Writes {@link clientSecretJson} to `path`, readable by its owner only (it holds a secret). */
export async function writeClientSecretFile(
  path: string,
  baseUrl: string,
  client: ClientSecretFields,
) {
  await writeFile(path, `${JSON.stringify(clientSecretJson(baseUrl, client), null, 2)}\n`, {
    mode: 0o600,
  });
}
