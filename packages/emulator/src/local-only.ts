import type { FastifyReply, FastifyRequest } from "fastify";
import { apiErrorBody } from "./google-errors.js";

const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Keeps web pages the developer visits away from an emulator listening on loopback (as
 * `npm start` runs it). A page cannot read it through a name of its own that it points at
 * 127.0.0.1 (DNS rebinding): the Host must be a loopback name. Nor can it change its state with
 * a form or a no-cors POST: a control request from another origin is refused. Bound beyond
 * loopback (`steward emulator --host`), the operator chose who may reach it.
 *
 * @returns the reply when it refused the request.
 */
export function refuseForeignPage(request: FastifyRequest, reply: FastifyReply) {
  reply.header("x-content-type-options", "nosniff");
  const { localAddress, localPort } = request.socket;
  if (localAddress === undefined || !LOOPBACK_ADDRESSES.has(localAddress)) return undefined;
  const own = ownOrigin(request.headers.host, localPort);
  if (own === undefined) return refuse(reply, "The Host header must name this loopback emulator.");
  const origin = request.headers.origin;
  // The route as matched, not the raw URL: the router decodes `/%65mulator/...` to it.
  const route = request.routeOptions.url ?? "";
  if (
    !SAFE_METHODS.has(request.method) &&
    route.startsWith("/emulator/") &&
    origin !== undefined &&
    origin !== own
  ) {
    return refuse(reply, "Control requests from another origin are refused.");
  }
  return undefined;
}

/** `http://HOST:PORT` when the Host header names this socket by a loopback name. */
function ownOrigin(host: string | undefined, localPort: number | undefined): string | undefined {
  if (host === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return undefined;
  }
  const port = url.port === "" ? 80 : Number(url.port);
  if (!LOOPBACK_NAMES.has(url.hostname) || port !== localPort) return undefined;
  return url.origin;
}

function refuse(reply: FastifyReply, message: string) {
  return reply.code(403).send(apiErrorBody(403, message, { reason: "forbidden" }));
}
