import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { queryParam } from "../../api-params.js";
import { baseUrlOf } from "../../base-url.js";
import { sendDriveError } from "../../drive-errors.js";
import type { FileMetadata } from "../../drive-resource.js";
import type { DriveFile } from "../../drive-store.js";
import { type ResumableStart, readResumableStart, type WriteInput } from "../../drive-upload.js";
import { ResumableSessions } from "../../resumable-sessions.js";
import { receiveChunk } from "../../resumable-upload.js";

/** The Drive methods a resumable upload goes through, for a caller `W` (routes/drive/caller.ts's). */
export interface UploadTarget<W> {
  /** Whether a create (no `fileId`) or update may start; sends the error and answers false. */
  canWrite(
    who: W,
    fileId: string | undefined,
    metadata: FileMetadata,
    reply: FastifyReply,
  ): boolean;
  create(
    who: W,
    input: WriteInput,
    request: FastifyRequest,
    reply: FastifyReply,
    written?: (file: DriveFile) => void,
  ): FastifyReply;
  update(
    who: W,
    fileId: string,
    input: WriteInput,
    request: FastifyRequest,
    reply: FastifyReply,
    written?: (file: DriveFile) => void,
  ): FastifyReply;
  get(who: W, fileId: string, request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

/** What a session remembers of the request that opened it. */
interface DriveUploadStart<W> extends ResumableStart {
  readonly who: W;
  /** The file a `files.update` upload replaces; undefined for `files.create`. */
  readonly fileId: string | undefined;
}

/**
 * Drive's resumable uploads (`uploadType=resumable`): `start` answers the opening POST or PATCH
 * with the session URI in `Location`; `PUT`s to that URI (under `/upload/...` or
 * `/resumable/upload/...`) carry the bytes, and the last one makes or updates the file.
 */
export function driveResumableUploads<W>(
  files: UploadTarget<W>,
  now: () => number,
): {
  start: (
    who: W,
    fileId: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => FastifyReply;
  /** `PUT` to a session URI, under `/upload/...` and `/resumable/upload/...`. */
  sessionsRoute: FastifyPluginAsync;
} {
  const uploads = new ResumableSessions<DriveUploadStart<W>>(now);

  /** Opens a session after the checks Google makes before any byte is sent. */
  function start(who: W, fileId: string | undefined, request: FastifyRequest, reply: FastifyReply) {
    const opening = readResumableStart(request, reply);
    if (opening === undefined) return reply;
    if (!files.canWrite(who, fileId, opening.metadata, reply)) return reply;
    const limit = uploads.limits.maxUploadBytes;
    if (opening.contentLength !== undefined && opening.contentLength > limit) {
      return sendDriveError(
        reply,
        413,
        `The upload is larger than the emulator keeps (${limit} bytes).`,
        { reason: "uploadTooLarge" },
      );
    }
    const session = uploads.open({ ...opening, who, fileId });
    session.total = opening.contentLength;
    // The session URI keeps the request's own parameters (fields, addParents...), as Google's.
    const url = new URL(request.url, baseUrlOf(request));
    url.searchParams.set("upload_id", session.id);
    return reply
      .code(200)
      .header("location", url.toString())
      .header("x-guploader-uploadid", session.id)
      .send();
  }

  // The session URI: bytes are read as they arrive, so a dropped connection keeps what came.
  const sessionsRoute: FastifyPluginAsync = async (sessions) => {
    sessions.removeAllContentTypeParsers();
    sessions.addContentTypeParser("*", (_request, payload, done) => {
      // A client that leaves while a refused chunk is unread is no error of the emulator's.
      payload.on("error", () => {});
      done(null, payload);
    });
    const put = async (request: FastifyRequest, reply: FastifyReply) => {
      const session = uploads.get(queryParam(request, "upload_id"));
      if (session === undefined) {
        return sendDriveError(reply, 404, "Upload session not found or expired.", {
          reason: "notFound",
          location: "upload_id",
          locationType: "parameter",
        });
      }
      const { who, fileId, metadata, contentType } = session.start;
      // A completed upload answers any later request with its file, as Google's.
      if (session.resultId !== undefined) return files.get(who, session.resultId, request, reply);
      if ((await receiveChunk(session, request, reply)) === "sent") return reply;
      const input: WriteInput = {
        metadata,
        content: session.content(),
        contentType: contentType ?? "application/octet-stream",
      };
      const written = (file: DriveFile) => {
        session.resultId = file.id;
        session.reset();
      };
      return fileId === undefined
        ? files.create(who, input, request, reply, written)
        : files.update(who, fileId, input, request, reply, written);
    };
    for (const prefix of ["/upload", "/resumable/upload"]) {
      sessions.put(`${prefix}/drive/v3/files`, put);
      sessions.put(`${prefix}/drive/v3/files/:fileId`, put);
    }
  };

  return { start, sessionsRoute };
}
