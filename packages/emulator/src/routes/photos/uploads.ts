import type { FastifyPluginAsync } from "fastify";
import { queryParam } from "../../api-params.js";
import { PHOTOS_SCOPES } from "../../api-scopes.js";
import type { PhotosResumableUploads } from "../../photos-resumable.js";
import type { PhotosStore } from "../../photos-store.js";
import type { PhotosCaller } from "./caller.js";
import { sendInvalidArgument } from "./respond.js";

/** `POST /v1/uploads`: raw and resumable uploads, answered with an upload token. */
export const uploadsRoute: FastifyPluginAsync<{
  caller: PhotosCaller;
  store: PhotosStore;
  resumable: PhotosResumableUploads;
}> = async (uploads, { caller, store, resumable }) => {
  // The upload endpoint takes raw bytes whatever their declared type, JSON included.
  uploads.removeAllContentTypeParsers();
  uploads.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) =>
    done(null, body),
  );
  uploads.post("/v1/uploads", (request, reply) => {
    // A session's own URL is its credential, as Google's: no Authorization needed there.
    const inSession = queryParam(request, "upload_id") !== undefined;
    if (inSession) return resumable.continue(request, reply);
    const owner = caller(request, reply, PHOTOS_SCOPES.append);
    if (owner === undefined) return reply;
    const protocol = request.headers["x-goog-upload-protocol"];
    if (protocol === "resumable") return resumable.start(owner, request, reply);
    if (protocol !== undefined && protocol !== "raw") {
      return sendInvalidArgument(reply, "X-Goog-Upload-Protocol must be raw or resumable.");
    }
    const bytes = request.body as Buffer | undefined;
    if (bytes === undefined || bytes.length === 0) {
      return sendInvalidArgument(reply, "The upload has no content.");
    }
    const declared = request.headers["x-goog-upload-content-type"];
    const token = store.upload(owner, bytes, typeof declared === "string" ? declared : undefined);
    return reply.type("text/plain; charset=utf-8").send(token);
  });
};
