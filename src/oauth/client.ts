import * as oidc from "openid-client";
import type { GoogleEndpoints } from "../google/endpoints.js";
import { undiciFetch } from "./http.js";

export interface OAuthClientOptions {
  endpoints: GoogleEndpoints;
  clientId: string;
  clientSecret: string;
  /** Give up on a token-endpoint call after this long. Default 10 s. */
  timeoutSeconds?: number;
}

/**
 * The openid-client configuration for Google's token and revocation endpoints, with the client
 * authenticated by its secret in the form body, as Google's own libraries do.
 * Plain HTTP is allowed only for a loopback endpoint (the local emulator).
 */
export function createOAuthClient(options: OAuthClientOptions): oidc.Configuration {
  const { endpoints } = options;
  const config = new oidc.Configuration(
    {
      issuer: endpoints.issuers[0] as string,
      token_endpoint: endpoints.tokenUrl,
      revocation_endpoint: endpoints.revokeUrl,
      jwks_uri: endpoints.jwksUrl,
    },
    options.clientId,
    { client_secret: options.clientSecret },
    oidc.ClientSecretPost(options.clientSecret),
  );
  config.timeout = options.timeoutSeconds ?? 10;
  config[oidc.customFetch] = undiciFetch();
  if (isLoopbackHttp(endpoints.tokenUrl)) oidc.allowInsecureRequests(config);
  return config;
}

function isLoopbackHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(hostname);
}
