import type { FastifyError, FastifyInstance } from "fastify";
import { type ErrorCode, StewardError } from "../../errors.js";

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
 * StewardErrors keep their public message; their detail and cause go to the log only; anything
 * else is a 500 `internal_error` whose message says nothing about the fault.
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
