import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { sendBadRequest, sendDriveError } from "./drive-errors.js";
import type { UploadSession } from "./resumable-sessions.js";

/**
 * One request to a resumable session URI (`PUT`), as Google's upload servers read it:
 *
 * - `Content-Range: bytes a-b/total` (or `a-b/*` while the total is unknown) carries bytes a..b;
 *   bytes the session already holds are skipped, a chunk starting past them is refused, and a
 *   chunk that is not the last must be a multiple of 256 KiB.
 * - `Content-Range: bytes *\/total` (or `*\/*`) with no body asks how far the upload got, and
 *   completes it when every byte is there.
 * - No `Content-Range`: the body is the whole upload.
 *
 * An incomplete upload answers `308 Resume Incomplete` with `Range: bytes=0-N` (no `Range`
 * when nothing was received). Bytes are kept as they arrive, so after a dropped connection the
 * session holds everything received before the drop and the client resumes from there.
 * Returns "complete" when the session holds the whole upload (the caller answers then), or
 * "sent" once an answer was sent or the client is gone.
 */
export async function receiveChunk(
  session: UploadSession<unknown>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<"complete" | "sent"> {
  const range = parseContentRange(request.headers["content-range"]);
  if (range === "invalid") return refuse(reply, "Failed to parse Content-Range header.");
  const body = request.body as Readable | undefined;
  const limit = session.store.limits.maxUploadBytes;
  if (range.total !== undefined) {
    if (session.total !== undefined && session.total !== range.total) {
      return refuse(
        reply,
        `Invalid request. The upload's total size was ${session.total} byte(s), the Content-Range header says ${range.total}.`,
      );
    }
    if (range.total > limit) return tooLarge(reply, limit);
  }

  if (range.kind === "whole") {
    session.reset();
    const read = await take(body, session, 0);
    if (read === "aborted") return "sent";
    if (read === "full") return tooLarge(reply, limit);
    if (session.total !== undefined && session.received !== session.total) {
      return refuse(
        reply,
        `Invalid request. The upload's total size was ${session.total} byte(s), the request carried ${session.received}.`,
      );
    }
    session.total = session.received;
    return "complete";
  }

  if (range.kind === "bytes") {
    const { first, last, total } = range;
    if (last < first || (total !== undefined && last >= total)) {
      return refuse(reply, "Failed to parse Content-Range header.");
    }
    if (first > session.received) {
      return refuse(
        reply,
        `Invalid request. According to the Content-Range header, the upload offset is ${first} byte(s), which exceeds already uploaded size of ${session.received} byte(s).`,
      );
    }
    const length = last - first + 1;
    const sent = request.headers["content-length"];
    if (sent !== undefined && Number(sent) !== length && !request.headers["content-encoding"]) {
      return refuse(
        reply,
        `Invalid request. The Content-Range header names ${length} byte(s), the body carries ${sent}.`,
      );
    }
    const isLast = total !== undefined && last + 1 === total;
    if (!isLast && length % CHUNK_UNIT !== 0) {
      return refuse(
        reply,
        `Invalid request. The number of bytes uploaded is required to be equal or greater than ${CHUNK_UNIT}, except for the final request (it's recommended to be the exact multiple of ${CHUNK_UNIT}). The received request contained ${length} bytes, which does not meet this requirement.`,
      );
    }
    if (last >= limit) return tooLarge(reply, limit);
    const read = await take(body, session, first, last + 1);
    if (read === "aborted") return "sent";
    if (read === "full") return tooLarge(reply, limit);
    if (read !== length) {
      return refuse(
        reply,
        `Invalid request. The Content-Range header names ${length} byte(s), the body carried ${read}.`,
      );
    }
  }

  if (range.total !== undefined) session.total = range.total;
  if (session.total !== undefined && session.received === session.total) return "complete";
  if (session.received > 0) reply.header("range", `bytes=0-${session.received - 1}`);
  reply.code(308).header("x-guploader-uploadid", session.id).send();
  return "sent";
}

/** Google's chunk unit: every chunk but the last is a multiple of it. */
export const CHUNK_UNIT = 256 * 1024;

type ContentRange =
  | { kind: "whole"; total?: undefined }
  | { kind: "query"; total: number | undefined }
  | { kind: "bytes"; first: number; last: number; total: number | undefined };

/** Parses `bytes a-b/total`, `bytes a-b/*`, `bytes *\/total` or `bytes *\/*`. */
export function parseContentRange(header: string | undefined): ContentRange | "invalid" {
  if (header === undefined) return { kind: "whole" };
  const match = /^bytes (?:(\d{1,15})-(\d{1,15})|\*)\/(\d{1,15}|\*)$/.exec(header.trim());
  if (match === null) return "invalid";
  const [, first, last, totalText] = match;
  const total = totalText === "*" ? undefined : Number(totalText);
  if (first === undefined || last === undefined) return { kind: "query", total };
  return { kind: "bytes", first: Number(first), last: Number(last), total };
}

/**
 * Reads the body from byte `from` of the upload, keeping the bytes past what the session holds,
 * up to `until`. Returns how many bytes the body carried, "aborted" when the client hung up
 * (what arrived before is kept), or "full" when the session cannot keep more.
 */
async function take(
  body: Readable | undefined,
  session: UploadSession<unknown>,
  from: number,
  until = Number.POSITIVE_INFINITY,
): Promise<number | "aborted" | "full"> {
  if (body === undefined) return 0;
  let position = from;
  try {
    for await (const data of body) {
      const chunk = typeof data === "string" ? Buffer.from(data) : (data as Buffer);
      const start = position;
      position += chunk.length;
      // Only bytes that continue exactly where the session stands are kept.
      const keepFrom = Math.max(session.received, start);
      const keepTo = Math.min(position, until);
      if (keepFrom >= keepTo || start > session.received) continue;
      if (!session.append(Buffer.from(chunk.subarray(keepFrom - start, keepTo - start)))) {
        body.destroy();
        return "full";
      }
    }
  } catch (error) {
    // A stream that failed for a reason other than the client leaving is answered as such.
    if (isStatusError(error)) throw error;
    return "aborted";
  }
  return body.readableAborted ? "aborted" : position - from;
}

function isStatusError(error: unknown): boolean {
  return (
    error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === "number"
  );
}

function refuse(reply: FastifyReply, message: string): "sent" {
  sendBadRequest(reply, message);
  return "sent";
}

function tooLarge(reply: FastifyReply, limit: number): "sent" {
  sendDriveError(reply, 413, `The upload is larger than the emulator keeps (${limit} bytes).`, {
    reason: "uploadTooLarge",
  });
  return "sent";
}
