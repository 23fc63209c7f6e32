import { isIP } from "node:net";
import type { FastifyRequest } from "fastify";
import { StewardError } from "../../errors.js";

export function isLoopback(address: string): boolean {
  // The usual answers first: this runs on every internal API request.
  if (address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1") return true;
  const plain = address.replace(/^::ffff:/, "");
  if (isIP(plain) === 4) return plain.startsWith("127.");
  return plain === "::1";
}

/**
 * Off loopback, a request must arrive over HTTPS: directly, or through a trusted proxy that says
 * `X-Forwarded-Proto: https` (Fastify believes that header only from `STEWARD_TRUST_PROXY`).
 * A request relayed by a proxy on this host is not a loopback client: one carrying forwarding
 * headers must be HTTPS too, or every client of a same-host proxy not named in
 * `STEWARD_TRUST_PROXY` could send keys in clear.
 *
 * @throws StewardError `https_required`
 */
export function requireHttps(request: FastifyRequest): void {
  if (request.protocol === "https") return;
  if (isLoopback(request.ip) && !relayed(request)) return;
  throw new StewardError("https_required");
}

function relayed(request: FastifyRequest): boolean {
  const { headers } = request;
  return (
    headers["x-forwarded-for"] !== undefined ||
    headers["x-forwarded-proto"] !== undefined ||
    headers.forwarded !== undefined
  );
}

/**
 * The check Google's sign-in samples make: a browser cannot send a custom header cross-site
 * without a CORS preflight, so its presence shows the request came from the app's own code.
 *
 * @throws StewardError `csrf_header_missing`
 */
export function requireRequestedWith(request: FastifyRequest): void {
  const value = request.headers["x-requested-with"];
  if (typeof value !== "string" || value.trim() === "") {
    throw new StewardError("csrf_header_missing");
  }
}

/**
 * When a browser sends `Origin`, it must be one the operator allows.
 *
 * @throws StewardError `origin_not_allowed`
 */
export function requireAllowedOrigin(request: FastifyRequest, allowed: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin !== undefined && !allowed.includes(origin)) {
    throw new StewardError("origin_not_allowed");
  }
}
