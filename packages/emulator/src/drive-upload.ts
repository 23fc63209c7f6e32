import type { FastifyReply, FastifyRequest } from "fastify";
import { queryParam } from "./api-params.js";
import { sendBadRequest, sendDriveError, sendInvalidParameter } from "./drive-errors.js";
import { type FileMetadata, parseFileMetadata } from "./drive-resource.js";
import { boundaryOf, parseMultipart } from "./multipart.js";

/** What a Drive create or update request carries once its body is read. */
export interface WriteInput {
  readonly metadata: FileMetadata;
  /** New content, when the request uploads some. */
  readonly content: Buffer | undefined;
  /** The media's own type (multipart part header or request header), when content came. */
  readonly contentType: string | undefined;
}

/**
 * Reads a write request's body, which the Drive routes receive as raw bytes: JSON metadata on
 * `/drive/v3/files`, or on `/upload/drive/v3/files` an `uploadType=multipart` body (metadata
 * part, then media part) or `uploadType=media` bytes (resumable uploads are read by readResumableStart). Sends Drive's 400 and returns undefined
 * when the body cannot be read.
 */
export function readWriteInput(
  kind: "metadata" | "upload",
  request: FastifyRequest,
  reply: FastifyReply,
): WriteInput | undefined {
  return kind === "upload" ? readUpload(request, reply) : readMetadata(request, reply);
}

/** What starts a resumable upload: the file's metadata, the media's type and length if said. */
export interface ResumableStart {
  readonly metadata: FileMetadata;
  readonly contentType: string | undefined;
  readonly contentLength: number | undefined;
}

/**
 * Reads the request that opens a resumable upload: JSON metadata (or no body), with the media's
 * type and length in `X-Upload-Content-Type` and `X-Upload-Content-Length`. Sends Drive's 400
 * and returns undefined when they cannot be read.
 */
export function readResumableStart(
  request: FastifyRequest,
  reply: FastifyReply,
): ResumableStart | undefined {
  const lengthHeader = request.headers["x-upload-content-length"];
  const contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (
    contentLength !== undefined &&
    (!/^\d{1,15}$/.test(String(lengthHeader)) || !Number.isSafeInteger(contentLength))
  ) {
    sendBadRequest(reply, "Invalid X-Upload-Content-Length header.");
    return undefined;
  }
  const input = readMetadata(request, reply);
  if (input === undefined) return undefined;
  const typeHeader = request.headers["x-upload-content-type"];
  const contentType = mediaTypeOf(Array.isArray(typeHeader) ? typeHeader[0] : typeHeader);
  return { metadata: input.metadata, contentType, contentLength };
}

function readMetadata(request: FastifyRequest, reply: FastifyReply): WriteInput | undefined {
  const body = request.body as Buffer | undefined;
  if (body === undefined || body.length === 0)
    return checked(undefined, undefined, undefined, reply);
  const type = mediaTypeOf(request.headers["content-type"]);
  if (type !== "application/json") {
    sendBadRequest(reply, `Media type '${type ?? ""}' is not supported. Use the /upload URL.`);
    return undefined;
  }
  const raw = parseJson(body);
  if (raw === undefined) {
    sendBadRequest(reply, "Invalid JSON payload received.");
    return undefined;
  }
  return checked(raw.value, undefined, undefined, reply);
}

function readUpload(request: FastifyRequest, reply: FastifyReply): WriteInput | undefined {
  const uploadType = queryParam(request, "uploadType");
  const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
  const contentType = request.headers["content-type"];
  if (uploadType === "media") {
    return checked(undefined, body, mediaTypeOf(contentType) ?? "application/octet-stream", reply);
  }
  if (uploadType !== "multipart") {
    sendInvalidParameter(reply, "uploadType");
    return undefined;
  }
  const boundary = boundaryOf(contentType);
  const parsed = boundary === undefined ? undefined : parseMultipart(body, boundary);
  const parts = parsed?.ok ? parsed.parts : [];
  const [meta, media] = parts;
  const raw =
    meta && mediaTypeOf(meta.headers["content-type"]) === "application/json"
      ? parseJson(meta.body)
      : undefined;
  if (parts.length !== 2 || media === undefined || raw === undefined) {
    const reason = parsed === undefined ? "no boundary" : parsed.ok ? "parts" : parsed.reason;
    request.log.debug({ reason }, "malformed multipart upload");
    sendBadRequest(reply, "Malformed multipart body.");
    return undefined;
  }
  const mediaType = mediaTypeOf(media.headers["content-type"]) ?? "application/octet-stream";
  return checked(raw.value, media.body, mediaType, reply);
}

function checked(
  raw: unknown,
  content: Buffer | undefined,
  contentType: string | undefined,
  reply: FastifyReply,
): WriteInput | undefined {
  const parsed = parseFileMetadata(raw);
  if (!parsed.ok) {
    sendDriveError(reply, 400, `Invalid value for: ${parsed.field}`, {
      reason: "invalid",
      location: parsed.field,
      locationType: "other",
    });
    return undefined;
  }
  return { metadata: parsed.metadata, content, contentType };
}

function parseJson(bytes: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(bytes.toString("utf8")) };
  } catch {
    return undefined;
  }
}

/** `type/subtype` of a Content-Type header, lower-cased, without parameters. */
function mediaTypeOf(header: string | undefined): string | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type === "" ? undefined : type;
}
