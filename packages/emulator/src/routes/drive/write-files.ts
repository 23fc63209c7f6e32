import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { queryParam } from "../../api-params.js";
import { DRIVE_METHOD_SCOPES } from "../../api-scopes.js";
import { readWriteInput } from "../../drive-upload.js";
import type { Caller, DriveCaller } from "./caller.js";
import type { DriveFiles } from "./drive-files.js";

/** Opens a resumable upload session (routes/drive/resumable.ts). */
export type StartResumable = (
  who: Caller,
  fileId: string | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
) => FastifyReply;

/**
 * `POST /drive/v3/files` and `PATCH /drive/v3/files/{fileId}` (`files.create`, `files.update`),
 * with metadata only or, under `/upload` and `/resumable/upload`, with media.
 */
export const writeFilesRoutes: FastifyPluginAsync<{
  caller: DriveCaller;
  files: DriveFiles;
  startResumable: StartResumable;
}> = async (writes, { caller, files, startResumable }) => {
  // Writes read every body as bytes: an upload may be of any type, JSON included.
  writes.removeAllContentTypeParsers();
  writes.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) =>
    done(null, body),
  );
  const write =
    (kind: "metadata" | "upload", scopes: readonly string[]) =>
    (request: FastifyRequest<{ Params: { fileId?: string } }>, reply: FastifyReply) => {
      const who = caller(request, reply, scopes);
      if (who === undefined) return reply;
      const { fileId } = request.params;
      if (kind === "upload" && queryParam(request, "uploadType") === "resumable") {
        return startResumable(who, fileId, request, reply);
      }
      const input = readWriteInput(kind, request, reply);
      if (input === undefined) return reply;
      return fileId === undefined
        ? files.create(who, input, request, reply)
        : files.update(who, fileId, input, request, reply);
    };
  writes.post("/drive/v3/files", write("metadata", DRIVE_METHOD_SCOPES.write));
  writes.patch("/drive/v3/files/:fileId", write("metadata", DRIVE_METHOD_SCOPES.update));
  // `/resumable/upload/...` is the resumable path Drive's discovery document names.
  for (const prefix of ["/upload", "/resumable/upload"]) {
    writes.post(`${prefix}/drive/v3/files`, write("upload", DRIVE_METHOD_SCOPES.write));
    writes.patch(`${prefix}/drive/v3/files/:fileId`, write("upload", DRIVE_METHOD_SCOPES.update));
  }
};
