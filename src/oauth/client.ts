import * as oidc from "openid-client";
import { Agent } from "undici";
import type { GoogleEndpoints } from "../google/endpoints.js";
import { type BodyRewrite, undiciFetch } from "./http.js";

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
 * A token response's ID token is passed through unchecked, for `verifyIdToken` to judge: read it
 * with {@link idTokenOf}.
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
  config[oidc.customFetch] = undiciFetch(new Agent(), idTokenAside(endpoints.tokenUrl));
  if (isLoopbackHttp(endpoints.tokenUrl)) oidc.allowInsecureRequests(config);
  return config;
}

/** The member a token response's `id_token` is moved to before openid-client reads the response. */
const ID_TOKEN_ASIDE = "steward_unchecked_id_token";

/**
 * The ID token of a token response obtained through {@link createOAuthClient}, not yet verified;
 * undefined when there is none, or it is not even a string (sign-in then refuses it).
 */
export function idTokenOf(response: oidc.TokenEndpointResponse): string | undefined {
  const value = response[ID_TOKEN_ASIDE] ?? response.id_token;
  return typeof value === "string" ? value : undefined;
}

/**
 * openid-client checks the ID token of a token response by rules of its own, stricter than
 * Google's and ours: `iss` equal to one issuer (Google also signs `accounts.google.com`), `aud`
 * equal to the server client (not an extra audience), 30 s of clock tolerance. It has an option
 * for the last only, and its refusal comes after Google has spent the code (and with it a first
 * consent's refresh token). So the `id_token` of a 200 from the token endpoint reaches it under
 * another name, and `verifyIdToken` is the one place that decides (the signature too, which
 * openid-client does not check).
 */
function idTokenAside(tokenUrl: string): BodyRewrite {
  const tokenHref = new URL(tokenUrl).href;
  return (url, status, text) => {
    if (status !== 200 || new URL(url).href !== tokenHref) return text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return text;
    }
    if (typeof body !== "object" || body === null || !("id_token" in body)) return text;
    const { id_token: idToken, ...rest } = body as Record<string, unknown>;
    return JSON.stringify({ ...rest, [ID_TOKEN_ASIDE]: idToken });
  };
}

function isLoopbackHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(hostname);
}
