import type { FastifyPluginAsync } from "fastify";
import { DRIVE_METHOD_SCOPES } from "../../api-scopes.js";
import type { DriveCaller } from "./caller.js";
import type { DriveFiles } from "./drive-files.js";

/** `GET /drive/v3/files`: `files.list`, with `q`, `spaces`, `orderBy` and pages. */
export const listFilesRoute: FastifyPluginAsync<{
  caller: DriveCaller;
  files: DriveFiles;
}> = async (app, { caller, files }) => {
  app.get("/drive/v3/files", (request, reply) => {
    const who = caller(request, reply, DRIVE_METHOD_SCOPES.read);
    return who === undefined ? reply : files.list(who, request, reply);
  });
};
