import { PassThrough, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { FastifyRequest } from "fastify";

/**
 * Request bodies sent with `Content-Encoding: gzip`, as Google's Java API client sends every
 * JSON and multipart body by default, are decoded before any route reads them. Only gzip (and
 * its old alias x-gzip) is accepted, the one coding Google documents for requests; `identity`
 * is the body as sent. Anything else is refused with 400 rather than read as garbage.
 */

/** An HTTP error Fastify's error handler turns into the emulator's Google-shaped body. */
class BodyEncodingError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

/** The Fastify stream contract: `receivedEncodedLength` counts bytes as they came on the wire. */
type DecodedBody = PassThrough & { receivedEncodedLength: number };

/**
 * `preParsing` hook: the body to parse, decoded. The decoded size still counts against the
 * app's body limit (Fastify counts what this stream yields), so a small gzip bomb cannot grow
 * past it; a corrupt or truncated stream fails the request with 400.
 */
export async function decodeContentEncoding(
  request: FastifyRequest,
  _reply: unknown,
  payload: Readable,
): Promise<Readable> {
  const header = request.headers["content-encoding"];
  if (header === undefined || !hasBody(request)) return payload;
  const codings = header
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  if (codings.length === 0) return payload;
  if (codings.length > 1 || (codings[0] !== "gzip" && codings[0] !== "x-gzip")) {
    throw new BodyEncodingError(`Unsupported Content-Encoding: ${header.slice(0, 40)}.`);
  }
  const decoded = new PassThrough() as DecodedBody;
  decoded.receivedEncodedLength = 0;
  payload.on("data", (chunk: Buffer) => {
    decoded.receivedEncodedLength += chunk.length;
  });
  const gunzip = createGunzip();
  // A client that hung up mid-body is not a corrupt stream: the reader sees its own error.
  payload.on("error", (error) => decoded.destroy(error));
  gunzip.on("error", () =>
    decoded.destroy(new BodyEncodingError("The gzip-encoded request body is not valid gzip.")),
  );
  payload.pipe(gunzip).pipe(decoded);
  // A route may answer without reading the body; its failure must not go unhandled then.
  decoded.on("error", () => {});
  return decoded;
}

/** Whether bytes follow the headers: an empty body has nothing to decode (gzip would fail). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return (
    request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
  );
}
