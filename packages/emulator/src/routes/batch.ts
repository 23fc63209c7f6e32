import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { type BatchCall, parseHttpRequest, responsePart } from "../batch-http.js";
import { apiErrorBody, sendApiError } from "../google-errors.js";
import { boundaryOf, MAX_PARTS, type MultipartPart, parseMultipart } from "../multipart.js";

/** Google's batch endpoint for Drive v3, which the Drive discovery document names as `batchPath`. */
export const DRIVE_BATCH_PATH = "/batch/drive/v3";

/** Calls a Drive batch may hold, as Google allows. */
export const MAX_BATCH_CALLS = MAX_PARTS;

/**
 * Google's batch endpoint: a `multipart/mixed` body of `application/http` parts, each one Drive
 * call, answered by a `multipart/mixed` body of their responses in the same order. Each call runs
 * through the emulator's own routes, with the batch's Authorization when the part has none (as
 * Google does); a call that fails fails alone, inside a 200.
 */
export const batchRoutes: FastifyPluginAsync = async (app) => {
  // `inject` on this plugin's instance still enters the whole app, so every route answers.
  app.post(DRIVE_BATCH_PATH, (request, reply) => batch(app, request, reply));
};

async function batch(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
  const boundary = boundaryOf(request.headers["content-type"], "multipart/mixed");
  if (boundary === undefined || !Buffer.isBuffer(request.body)) {
    return sendApiError(reply, 400, "Batch requests must be multipart/mixed with a boundary.");
  }
  const parsed = parseMultipart(request.body, boundary);
  if (!parsed.ok) {
    const tooMany = parsed.reason === "too many parts";
    return sendApiError(
      reply,
      400,
      tooMany
        ? `A batch request cannot contain more than ${MAX_BATCH_CALLS} calls.`
        : `Failed to parse batch request: ${parsed.reason}.`,
    );
  }
  const responses: Buffer[] = [];
  for (const part of parsed.parts) {
    responses.push(await runPart(app, request, part));
  }
  const outer = `batch_${randomBytes(12).toString("hex")}`;
  const body = Buffer.concat([
    ...responses.flatMap((response) => [Buffer.from(`--${outer}\r\n`), response, CRLF]),
    Buffer.from(`--${outer}--\r\n`),
  ]);
  return reply.type(`multipart/mixed; boundary=${outer}`).send(body);
}

const CRLF = Buffer.from("\r\n");

async function runPart(
  app: FastifyInstance,
  request: FastifyRequest,
  part: MultipartPart,
): Promise<Buffer> {
  const contentId = part.headers["content-id"];
  const type = (part.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/http") {
    return failedPart(contentId, "Each part of a batch request must be application/http.");
  }
  const parsed = parseHttpRequest(part.body);
  if (!parsed.ok) return failedPart(contentId, `Invalid batch part: ${parsed.reason}.`);
  const { call } = parsed;
  if (!call.url.startsWith("/drive/v3/")) {
    return failedPart(contentId, "This batch endpoint takes Drive v3 calls only.");
  }
  const response = await app.inject({
    method: call.method as "GET",
    url: call.url,
    headers: innerHeaders(call, request),
    ...(call.body.length > 0 ? { payload: call.body } : {}),
  });
  return responsePart(contentId, response.statusCode, response.headers, response.rawPayload);
}

/** The call's own headers, with the batch's Host, and its Authorization when the call has none. */
function innerHeaders(call: BatchCall, request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers)) {
    if (name !== "host" && name !== "content-length") headers[name] = value;
  }
  if (request.headers.host !== undefined) headers.host = request.headers.host;
  const authorization = request.headers.authorization;
  if (headers.authorization === undefined && authorization !== undefined) {
    headers.authorization = authorization;
  }
  if (call.body.length > 0 && headers["content-type"] === undefined) {
    headers["content-type"] = "application/json";
  }
  return headers;
}

function failedPart(contentId: string | undefined, message: string): Buffer {
  const body = Buffer.from(JSON.stringify(apiErrorBody(400, message)));
  return responsePart(contentId, 400, { "Content-Type": "application/json; charset=UTF-8" }, body);
}
