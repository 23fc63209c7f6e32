import type { FastifyPluginAsync } from "fastify";
import { DRIVE_METHOD_SCOPES } from "../../api-scopes.js";
import type { DriveCaller } from "./caller.js";
import type { DriveFiles } from "./drive-files.js";

/** `DELETE /drive/v3/files/{fileId}`: `files.delete`. */
export const deleteFileRoute: FastifyPluginAsync<{
  caller: DriveCaller;
  files: DriveFiles;
}> = async (app, { caller, files }) => {
  app.delete<{ Params: { fileId: string } }>("/drive/v3/files/:fileId", (request, reply) => {
    const who = caller(request, reply, DRIVE_METHOD_SCOPES.write);
    return who === undefined ? reply : files.delete(who, request.params.fileId, reply);
  });
};
