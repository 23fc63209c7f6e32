import type { FastifyPluginAsync } from "fastify";
import { DRIVE_METHOD_SCOPES } from "../../api-scopes.js";
import type { DriveCaller } from "./caller.js";
import type { DriveFiles } from "./drive-files.js";

/** `GET /drive/v3/files/{fileId}`: `files.get`, metadata or content (`alt=media`). */
export const getFileRoute: FastifyPluginAsync<{ caller: DriveCaller; files: DriveFiles }> = async (
  app,
  { caller, files },
) => {
  app.get<{ Params: { fileId: string } }>("/drive/v3/files/:fileId", (request, reply) => {
    const who = caller(request, reply, DRIVE_METHOD_SCOPES.read);
    return who === undefined ? reply : files.get(who, request.params.fileId, request, reply);
  });
};
