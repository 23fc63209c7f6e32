import type { FastifyRequest } from "fastify";
import { OAuthError } from "./oauth-errors.js";

/** The one OAuth client Steward knows: its secret is an API key (or STEWARD_ADMIN_TOKEN). */
export const STEWARD_CLIENT_ID = "steward";

/** Client credentials as presented, and how: HTTP Basic, or form fields (client_secret_post). */
export interface ClientCredentials {
  readonly secret: string;
  readonly scheme: "basic" | "post";
}

/**
 * The client credentials of a token request (RFC 6749 section 2.3.1): `Authorization: Basic`
 * with form-encoded id and secret, or `client_id` and `client_secret` fields; one way only.
 *
 * @throws OAuthError `invalid_request` (both ways, or a malformed header), `invalid_client` (none,
 *   or a client other than `steward`), with the Basic challenge when the header was used.
 */
export function clientCredentials(
  request: FastifyRequest,
  body: { client_id?: string; client_secret?: string },
): ClientCredentials {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (!basic) {
      throw new OAuthError("invalid_client", "Send the client credentials with HTTP Basic.");
    }
    if (body.client_secret !== undefined) {
      throw new OAuthError("invalid_request", "Send the client credentials one way, not two.");
    }
    return checked(basicPair(basic[1] as string), "basic");
  }
  if (body.client_secret === undefined || body.client_secret === "") {
    throw new OAuthError("invalid_client", "Client authentication is required.");
  }
  return checked({ id: body.client_id, secret: body.client_secret }, "post");
}

function checked(
  pair: { id: string | undefined; secret: string },
  scheme: ClientCredentials["scheme"],
): ClientCredentials {
  if (pair.id !== STEWARD_CLIENT_ID || pair.secret === "") {
    const error = new OAuthError(
      "invalid_client",
      `The client_id is "${STEWARD_CLIENT_ID}" and its secret an API key.`,
    );
    error.basicChallenge = scheme === "basic";
    throw error;
  }
  return { secret: pair.secret, scheme };
}

/** `id:secret`, each form-encoded (RFC 6749 2.3.1; Go's x/oauth2 encodes them, others not). */
function basicPair(encoded: string): { id: string; secret: string } {
  const text = Buffer.from(encoded, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) {
    const error = new OAuthError("invalid_client", "The Basic credentials are malformed.");
    error.basicChallenge = true;
    throw error;
  }
  try {
    return { id: formDecode(text.slice(0, colon)), secret: formDecode(text.slice(colon + 1)) };
  } catch (cause) {
    const error = new OAuthError("invalid_client", "The Basic credentials are malformed.", {
      cause,
    });
    error.basicChallenge = true;
    throw error;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}
