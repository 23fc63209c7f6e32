import type { FastifyPluginAsync } from "fastify";
import { PHOTOS_SCOPES } from "../../api-scopes.js";
import { sendApiError } from "../../google-errors.js";
import { mimeTypeFromFilename, sniffImage } from "../../image-info.js";
import {
  type BatchCreateRequest,
  mediaItemResource,
  parseBatchCreate,
} from "../../photos-resource.js";
import type { MediaItem, PhotosOwner, PhotosStore } from "../../photos-store.js";
import type { PhotosCaller } from "./caller.js";
import { send, sendInvalidArgument } from "./respond.js";

/** `POST /v1/mediaItems:batchCreate`: turns upload tokens into media items, in an album or not. */
export const batchCreateRoute: FastifyPluginAsync<{
  caller: PhotosCaller;
  store: PhotosStore;
}> = async (app, { caller, store }) => {
  app.post("/v1/mediaItems::batchCreate", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.append);
    if (owner === undefined) return reply;
    const input = parseBatchCreate(request.body);
    if ("error" in input) return sendInvalidArgument(reply, input.error);
    const album = input.albumId === undefined ? undefined : store.album(owner, input.albumId);
    if (input.albumId !== undefined && album === undefined) {
      return sendApiError(reply, 403, "No permission to add media items to this album.");
    }
    const insertAt = album && insertionIndex(album.mediaItemIds, input.position);
    if (insertAt === -1)
      return sendInvalidArgument(reply, "relativeMediaItemId is not in the album.");
    const results = createItems(store, owner, input);
    const created = results.flatMap((result) => (result.item ? [result.item.id] : []));
    album?.mediaItemIds.splice(insertAt ?? album.mediaItemIds.length, 0, ...created);
    const failed = results.some((result) => result.item === undefined);
    // Google answers 207 Multi-Status when some items could not be created.
    return send(request, reply.code(failed ? 207 : 200), {
      newMediaItemResults: results.map((result) =>
        result.item === undefined
          ? {
              uploadToken: result.uploadToken,
              status: {
                code: 3,
                message: "Failed: There was an error while trying to create this media item.",
              },
            }
          : {
              uploadToken: result.uploadToken,
              status: { message: "Success" },
              mediaItem: mediaItemResource(result.item, undefined),
            },
      ),
    });
  });
};

interface CreateResult {
  readonly uploadToken: string;
  readonly item: MediaItem | undefined;
}

/** Creates each item independently: a bad upload token fails that item only. */
function createItems(
  store: PhotosStore,
  owner: PhotosOwner,
  input: BatchCreateRequest,
): CreateResult[] {
  return input.newMediaItems.map((entry) => {
    const upload = store.takeUpload(owner, entry.uploadToken);
    if (upload === undefined) return { uploadToken: entry.uploadToken, item: undefined };
    const filename = entry.fileName ?? "";
    const mimeType =
      sniffImage(upload.bytes)?.mimeType ??
      upload.mimeType ??
      mimeTypeFromFilename(filename) ??
      "application/octet-stream";
    const item = store.addMediaItem(owner, {
      description: entry.description,
      filename,
      mimeType,
      bytes: upload.bytes,
    });
    return { uploadToken: entry.uploadToken, item };
  });
}

/** Where new items go in an album; -1 when the relative item is not there. */
function insertionIndex(ids: readonly string[], position: BatchCreateRequest["position"]): number {
  if (position.kind !== "after") return position.kind === "first" ? 0 : ids.length;
  const at = ids.indexOf(position.mediaItemId);
  return at === -1 ? -1 : at + 1;
}
