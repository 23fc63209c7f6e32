import type { FastifyPluginAsync } from "fastify";
import type { AppDataStore } from "../../drive-store.js";
import type { EmulatorState } from "../../state.js";
import { driveCaller } from "./caller.js";
import { deleteFileRoute } from "./delete-file.js";
import { DriveFiles } from "./drive-files.js";
import { getFileRoute } from "./get-file.js";
import { listFilesRoute } from "./list-files.js";
import { driveResumableUploads } from "./resumable.js";
import { writeFilesRoutes } from "./write-files.js";

/**
 * Drive API v3 for the application data folder: `files.get` (metadata, and content with
 * `alt=media`), `files.list`, `files.create` (metadata only, or `uploadType=multipart`/`media`),
 * `files.update` (PATCH, with or without media), `files.delete`. Uploads may also be resumable
 * (`uploadType=resumable`: a session URI in `Location`, then `PUT`s to it). Each (user, client)
 * has its own folder, so only the app that created a file sees it. My Drive (`spaces=drive`) is
 * not modelled: it lists as empty and cannot be written to.
 */
export const driveRoutes: FastifyPluginAsync<{
  state: EmulatorState;
  store: AppDataStore;
}> = async (app, { state, store }) => {
  const files = new DriveFiles(store);
  const caller = driveCaller(state);
  const resumable = driveResumableUploads(files, state.now);
  await app.register(getFileRoute, { caller, files });
  await app.register(listFilesRoute, { caller, files });
  await app.register(deleteFileRoute, { caller, files });
  await app.register(writeFilesRoutes, { caller, files, startResumable: resumable.start });
  await app.register(resumable.sessionsRoute);
};
