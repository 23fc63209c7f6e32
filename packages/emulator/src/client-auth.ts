import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { EmulatorClient } from "./model.js";

export type ClientAuthResult =
  | { ok: true; client: EmulatorClient }
  | { ok: false; status: number; error: string; description: string };

/**
 * Authenticates the client of a /token request: HTTP Basic (client_secret_basic, each part
 * form-encoded) or `client_id`/`client_secret` in the body (client_secret_post).
 */
export function authenticateClient(
  clients: ReadonlyMap<string, EmulatorClient>,
  request: FastifyRequest,
  params: Readonly<Record<string, string>>,
): ClientAuthResult {
  const basic = parseBasic(request.headers.authorization);
  const clientId = basic?.id ?? params.client_id;
  const secret = basic?.secret ?? params.client_secret;
  if (!clientId) {
    return fail(400, "invalid_request", "Could not determine client ID from request.");
  }
  const client = clients.get(clientId);
  if (client === undefined) return fail(401, "invalid_client", "The OAuth client was not found.");
  if (client.clientSecret !== undefined) {
    if (!secret) return fail(400, "invalid_request", "client_secret is missing.");
    if (!sameSecret(secret, client.clientSecret))
      return fail(401, "invalid_client", "Unauthorized");
  }
  return { ok: true, client };
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " ")),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " ")),
    };
  } catch {
    return undefined;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function fail(status: number, error: string, description: string): ClientAuthResult {
  return { ok: false, status, error, description };
}
