import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, StewardError } from "../../errors.js";
import { databaseUnavailable, isDatabaseDown } from "../../store/database-errors.js";

/** Fastify's own failures, as our typed errors. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_request",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_request",
  FST_ERR_VALIDATION: "invalid_request",
};

/**
 * One error envelope for every failure: `{ error: { code, message } }` with the code's status.
 * StewardErrors keep their public message; their detail and cause go to the log only; a database
 * out of reach, wherever it surfaced, is a 503 `database_unavailable`; anything else is a 500
 * `internal_error` whose message says nothing about the fault.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    const error = asStewardError(raw);
    const log = { code: error.code, detail: error.detail, status: error.status };
    if (error.status >= 500)
      request.log.error({ ...log, err: error.cause ?? raw }, "request failed");
    else request.log.info(log, "request refused");
    if (error.code === "rate_limited")
      reply.header("retry-after", reply.getHeader("retry-after") ?? "60");
    return reply.code(error.status).send(error.toJSON());
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(new StewardError("not_found").toJSON()),
  );
}

function asStewardError(error: FastifyError): StewardError {
  if (error instanceof StewardError) return error;
  if (isDatabaseDown(error)) return databaseUnavailable("the request was not served", error);
  if (error.statusCode === 429) return new StewardError("rate_limited");
  const code = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (code === "invalid_request" && error.validation) {
    return new StewardError(code, { message: `Invalid request: ${error.message}`, cause: error });
  }
  if (code) return new StewardError(code, { cause: error });
  if (error.statusCode && error.statusCode < 500)
    return new StewardError("invalid_request", { cause: error });
  return new StewardError("internal_error", { detail: error.message, cause: error });
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route runs (a path that is not
 * validly percent-encoded, a path parameter over `maxParamLength`) answers the envelope, not
 * Fastify's own codes, and the URL is not echoed.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const refused =
    error.code === "FST_ERR_BAD_URL"
      ? new StewardError("invalid_request", {
          message: "The request path is not validly percent-encoded.",
        })
      : error.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? new StewardError("invalid_request", { message: "A path parameter is too long." })
        : new StewardError("internal_error");
  if (refused.status >= 500) request.log.error({ code: error.code }, "request failed");
  else request.log.info({ code: refused.code, detail: error.code }, "request refused");
  reply.header("x-request-id", request.id);
  return reply.code(refused.status).send(refused.toJSON());
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before Fastify sees a request
 * (headers over `--max-http-header-size`, a header it cannot parse, a request that never
 * finished arriving) answers the envelope too, then the connection closes. Nothing of the
 * request is echoed.
 */
export function answerClientError(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Duplex,
): void {
  // A reset connection has nobody left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const refused = new StewardError(
    error.code === "HPE_HEADER_OVERFLOW"
      ? "headers_too_large"
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "request_timeout"
        : "invalid_request",
  );
  this.log.debug({ code: refused.code, detail: error.code }, "client error");
  if (socket.writable) {
    const body = JSON.stringify(refused.toJSON());
    socket.write(
      `HTTP/1.1 ${refused.status} ${STATUS_CODES[refused.status]}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
