import * as oauth from "oauth4webapi";
import { Agent } from "undici";
import type { GoogleEndpoints } from "../google/endpoints.js";
import { undiciFetch } from "./http.js";

export interface OAuthClientOptions {
  endpoints: GoogleEndpoints;
  clientId: string;
  clientSecret: string;
  /** Give up on a token or revocation call after this long. Default 10 s. */
  timeoutSeconds?: number;
}

/**
 * Steward's client of Google's token and revocation endpoints: what oauth4webapi's request
 * functions take (the server's metadata, the client, its authentication) and the transport
 * options every call passes. Build it with {@link createOAuthClient}; call it through the grant
 * functions (`authorizationCodeGrant`, `refreshTokenGrant`, `tokenRevocation`).
 */
export interface OAuthClient {
  readonly server: oauth.AuthorizationServer;
  readonly client: oauth.Client;
  readonly authentication: oauth.ClientAuth;
  readonly transport: oauth.HttpRequestOptions<"POST", URLSearchParams>;
}

/**
 * The client of Google's token and revocation endpoints, authenticated by its secret in the form
 * body (client_secret_post), as Google's own libraries do. Each call is aborted after
 * `timeoutSeconds`. Plain HTTP is allowed only for a loopback endpoint (the local emulator).
 */
export function createOAuthClient(options: OAuthClientOptions): OAuthClient {
  const { endpoints } = options;
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  return Object.freeze({
    server: Object.freeze({
      issuer: endpoints.issuers[0] as string,
      token_endpoint: endpoints.tokenUrl,
      revocation_endpoint: endpoints.revokeUrl,
      jwks_uri: endpoints.jwksUrl,
    }),
    client: Object.freeze({ client_id: options.clientId }),
    authentication: oauth.ClientSecretPost(options.clientSecret),
    transport: Object.freeze({
      [oauth.customFetch]: undiciFetch(new Agent()),
      // A factory: a fresh timeout for each request, not one shared by every call.
      signal: () => AbortSignal.timeout(timeoutMs),
      ...(isLoopbackHttp(endpoints.tokenUrl) ? { [oauth.allowInsecureRequests]: true } : {}),
    }),
  });
}

function isLoopbackHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(hostname);
}
