import type { FastifyReply, FastifyRequest } from "fastify";
import { baseUrlOf } from "./base-url.js";
import { sendApiError } from "./google-errors.js";
import type { PhotosOwner } from "./photos-store.js";
import { ResumableSessions } from "./resumable-sessions.js";
import { CHUNK_UNIT } from "./resumable-upload.js";

/** What a Photos resumable session remembers of the request that opened it. */
interface PhotosUploadStart {
  readonly owner: PhotosOwner;
  readonly mimeType: string | undefined;
  readonly rawSize: number | undefined;
}

/**
 * The Photos Library API's resumable uploads (`X-Goog-Upload-Protocol: resumable`):
 *
 * - `POST /v1/uploads` with `X-Goog-Upload-Command: start` (and `X-Goog-Upload-Raw-Size`,
 *   `X-Goog-Upload-Content-Type`) answers 200 with the session in `X-Goog-Upload-URL` and the
 *   chunk unit in `X-Goog-Upload-Chunk-Granularity`.
 * - `POST` to that URL with `X-Goog-Upload-Command: upload` (or `upload, finalize` for the last
 *   chunk) and `X-Goog-Upload-Offset` carries bytes; `finalize` answers the upload token.
 * - `X-Goog-Upload-Command: query` answers `X-Goog-Upload-Size-Received`, to resume from there;
 *   `cancel` ends the session.
 */
export class PhotosResumableUploads {
  private readonly sessions: ResumableSessions<PhotosUploadStart>;

  constructor(
    now: () => number,
    /** Turns finished bytes into an upload token, as a raw upload does. */
    private readonly finish: (owner: PhotosOwner, bytes: Buffer, mimeType?: string) => string,
  ) {
    this.sessions = new ResumableSessions(now);
  }

  /** `X-Goog-Upload-Command: start`, from an authorized caller. */
  start(owner: PhotosOwner, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (!commandsOf(request).has("start")) {
      return sendApiError(reply, 400, "X-Goog-Upload-Command must be start to begin an upload.");
    }
    const sizeHeader = header(request, "x-goog-upload-raw-size");
    const rawSize = sizeHeader === undefined ? undefined : Number(sizeHeader);
    if (sizeHeader !== undefined && !/^\d{1,15}$/.test(sizeHeader)) {
      return sendApiError(reply, 400, "Invalid X-Goog-Upload-Raw-Size header.");
    }
    const limit = this.sessions.limits.maxUploadBytes;
    if (rawSize !== undefined && rawSize > limit) {
      return sendApiError(
        reply,
        413,
        `The upload is larger than the emulator keeps (${limit} bytes).`,
      );
    }
    const mimeType = header(request, "x-goog-upload-content-type");
    const session = this.sessions.open({ owner, mimeType, rawSize });
    const url = new URL("/v1/uploads", baseUrlOf(request));
    url.searchParams.set("upload_id", session.id);
    url.searchParams.set("upload_protocol", "resumable");
    return reply
      .code(200)
      .header("x-goog-upload-status", "active")
      .header("x-goog-upload-url", url.toString())
      .header("x-goog-upload-chunk-granularity", String(CHUNK_UNIT))
      .header("x-guploader-uploadid", session.id)
      .send();
  }

  /** A request to a session's URL: upload, finalize, query or cancel. */
  continue(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const session = this.sessions.get(uploadIdOf(request));
    if (session === undefined) {
      return sendApiError(reply, 404, "Upload session not found or expired.");
    }
    const commands = commandsOf(request);
    const active = () => reply.header("x-goog-upload-status", "active");
    if (commands.has("cancel")) {
      this.sessions.close(session);
      return reply.code(200).header("x-goog-upload-status", "cancelled").send();
    }
    if (commands.has("query")) {
      return active()
        .header("x-goog-upload-size-received", String(session.received))
        .code(200)
        .send();
    }
    const finalize = commands.has("finalize");
    if (!commands.has("upload") && !finalize) {
      return sendApiError(reply, 400, "Unknown X-Goog-Upload-Command.");
    }
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const offsetHeader = header(request, "x-goog-upload-offset");
    const offset = offsetHeader === undefined ? session.received : Number(offsetHeader);
    if (offsetHeader !== undefined && !/^\d{1,15}$/.test(offsetHeader)) {
      return sendApiError(reply, 400, "Invalid X-Goog-Upload-Offset header.");
    }
    if (offset > session.received) {
      return sendApiError(
        reply,
        400,
        `The upload offset is ${offset} byte(s), which exceeds the ${session.received} byte(s) received.`,
      );
    }
    if (!finalize && body.length % CHUNK_UNIT !== 0) {
      return sendApiError(
        reply,
        400,
        `Every chunk but the last must be a multiple of ${CHUNK_UNIT} bytes; this one has ${body.length}.`,
      );
    }
    const fresh = body.subarray(Math.min(body.length, session.received - offset));
    if (!session.append(fresh)) {
      const limit = this.sessions.limits.maxUploadBytes;
      return sendApiError(
        reply,
        413,
        `The upload is larger than the emulator keeps (${limit} bytes).`,
      );
    }
    if (!finalize) {
      return active()
        .header("x-goog-upload-size-received", String(session.received))
        .code(200)
        .send();
    }
    const { owner, mimeType, rawSize } = session.start;
    if ((rawSize !== undefined && session.received !== rawSize) || session.received === 0) {
      return sendApiError(
        reply,
        400,
        `The upload ends at ${session.received} byte(s), but X-Goog-Upload-Raw-Size said ${rawSize ?? "more"}.`,
      );
    }
    const token = this.finish(owner, session.content(), mimeType);
    this.sessions.close(session);
    return reply
      .code(200)
      .header("x-goog-upload-status", "final")
      .type("text/plain; charset=utf-8")
      .send(token);
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function commandsOf(request: FastifyRequest): Set<string> {
  const value = header(request, "x-goog-upload-command") ?? "";
  return new Set(value.split(",").map((command) => command.trim().toLowerCase()));
}

function uploadIdOf(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const id = query?.upload_id;
  return typeof id === "string" ? id : undefined;
}
