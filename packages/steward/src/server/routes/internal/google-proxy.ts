import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { fetchAs } from "../../../access/fetch-as.js";
import { StewardError } from "../../../errors.js";
import type { GoogleEndpoints } from "../../../google/endpoints.js";
import type { TokenManager } from "../../../tokens/token-manager.js";
import type { ApiAuth } from "../../plugins/api-auth.js";
import { API_KEY_BEARER, Sub } from "../../schemas.js";

export interface GoogleProxyOptions {
  apiAuth: ApiAuth;
  tokens: TokenManager;
  endpoints: GoogleEndpoints;
}

const PROXY_ROUTE = "/v1/users/:sub/google/*";
type ProxyParams = { sub: string; "*": string };
/** What Google APIs answer; TRACE (and anything else) is refused, never sent on. */
const PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Uploads (Photos, Drive media) pass through; the rest of the API keeps its 16 KiB limit. */
const PROXY_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const GOOGLE_API_HOST = /^[a-z0-9-]+\.googleapis\.com$/;
const FORWARDED_REQUEST_HEADERS = ["content-type", "accept", "range", "if-match", "if-none-match"];
const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  "etag",
  "retry-after",
  "cache-control",
  "content-range",
  // Resumable uploads: the session URI (redirects themselves are followed by fetchAs) and the
  // bytes Google holds so far.
  "location",
  "range",
];

/**
 * `/v1/users/{sub}/google/{path}`: a Google API call as the user (proxy scope). The host is
 * `www.googleapis.com` unless `X-Google-Host` names another `*.googleapis.com` host; in emulator
 * mode every host is the emulator, and only its stand-ins for Google APIs are reachable, never
 * its control API. Method, query and body pass through; the token is added by fetchAs, which
 * refuses anything `endpoints.isApiUrl` does not allow, redirects included. Its own plugin: its
 * bodies pass through unparsed, up to 64 MiB.
 */
export const googleProxyRoute: FastifyPluginAsync<GoogleProxyOptions> = async (proxy, options) => {
  // Bodies pass through untouched, whatever their type.
  proxy.removeAllContentTypeParsers();
  proxy.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: PROXY_BODY_LIMIT_BYTES },
    (_request, body, done) => done(null, body),
  );
  const requireKey = async (request: FastifyRequest) => {
    await options.apiAuth.require(request, "proxy");
  };
  const params = Type.Object({ sub: Sub(), "*": Type.String() });
  const forward = async (request: FastifyRequest<{ Params: ProxyParams }>, reply: FastifyReply) => {
    const host = request.headers["x-google-host"] ?? "www.googleapis.com";
    if (typeof host !== "string" || !GOOGLE_API_HOST.test(host)) {
      throw new StewardError("url_not_allowed", {
        message: "X-Google-Host must be a *.googleapis.com host.",
      });
    }
    const target = `${options.endpoints.apiBaseUrl(host)}/${apiPathAndQuery(originForm(request.url))}`;
    const headers = new Headers();
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === "string") headers.set(name, value);
    }
    for (const [name, value] of Object.entries(request.headers)) {
      if (name.startsWith("x-goog-") && typeof value === "string") headers.set(name, value);
    }
    const body =
      Buffer.isBuffer(request.body) && request.body.length > 0
        ? new Uint8Array(request.body)
        : undefined;
    const response = await fetchAs(
      options.tokens,
      options.endpoints.isApiUrl,
      request.params.sub,
      target,
      {
        method: request.method,
        headers,
        body,
      },
    );
    reply.code(response.status);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) reply.header(name, value);
    }
    // Photos' upload protocol answers in its own headers (X-Goog-Upload-URL, -Status, ...).
    response.headers.forEach((value, name) => {
      if (name.startsWith("x-goog-upload-")) reply.header(name, value);
    });
    return reply.send(Buffer.from(await response.arrayBuffer()));
  };
  // One route in the OpenAPI document for every proxied method (the others are hidden there).
  proxy.route<{ Params: ProxyParams }>({
    method: "GET",
    url: PROXY_ROUTE,
    exposeHeadRoute: false,
    schema: {
      summary: "Call a Google API as the user (proxy)",
      description: `Every method but TRACE is proxied the same way: ${PROXIED_METHODS.join(", ")}. Method, query and body pass through.`,
      tags: ["internal"],
      security: API_KEY_BEARER,
      params,
    },
    // Before the body is read: a caller without the key must not make us buffer 64 MiB.
    onRequest: requireKey,
    handler: forward,
  });
  proxy.route<{ Params: ProxyParams }>({
    method: PROXIED_METHODS.filter((method) => method !== "GET"),
    url: PROXY_ROUTE,
    schema: { hide: true, params },
    onRequest: requireKey,
    handler: forward,
  });
  // TRACE would echo the request, bearer included, back from Google's side: never proxied.
  proxy.route({
    method: "TRACE",
    url: PROXY_ROUTE,
    schema: { hide: true },
    onRequest: requireKey,
    handler: async (_request, reply) => {
      reply.header("allow", PROXIED_METHODS.join(", "));
      throw new StewardError("method_not_allowed", {
        message: `The proxy does not forward TRACE; it forwards ${PROXIED_METHODS.join(", ")}.`,
      });
    },
  });
};

/** The segments before the API path: "", "v1", "users", the sub, "google". */
const PROXY_PREFIX_SEGMENTS = 5;
/** `.` and `..`, also percent-encoded: URL parsing would still resolve them. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * The API path and query as the caller sent them. Fastify's `*` parameter is decoded: from it,
 * `files/..%2F..%2Fgmail%2F…` would become a path to another API, and an object name holding
 * `%2F` would lose it.
 *
 * @throws StewardError `url_not_allowed` for a dot segment, a backslash or a fragment.
 */
function apiPathAndQuery(url: string): string {
  const queryAt = url.indexOf("?");
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const segments = path.split("/").slice(PROXY_PREFIX_SEGMENTS);
  if (segments.some((segment) => DOT_SEGMENT.test(segment)) || /[\\#]|%5c/i.test(path)) {
    throw new StewardError("url_not_allowed", {
      message: "The API path may not hold dot segments, backslashes or a fragment.",
    });
  }
  return segments.join("/") + (queryAt === -1 ? "" : url.slice(queryAt));
}

/**
 * The request target in origin form. An absolute-form one (`GET http://host/v1/users/...`, which
 * HTTP/1.1 servers must accept) is routed by its path: its scheme and host are not API path.
 */
function originForm(url: string): string {
  if (url.startsWith("/")) return url;
  const pathAt = url.indexOf("/", url.indexOf("://") + 3);
  return pathAt === -1 ? "/" : url.slice(pathAt);
}
