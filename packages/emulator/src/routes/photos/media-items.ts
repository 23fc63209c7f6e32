import type { FastifyPluginAsync } from "fastify";
import { queryParam } from "../../api-params.js";
import { PHOTOS_SCOPES } from "../../api-scopes.js";
import { mediaItemResource, pageSizeOf, parseSearch } from "../../photos-resource.js";
import type { PhotosStore } from "../../photos-store.js";
import type { PhotosCaller } from "./caller.js";
import type { MediaBaseUrl } from "./media-urls.js";
import { paginate, send, sendInvalidArgument, sendItems, sendNotFound } from "./respond.js";

/** `POST /v1/mediaItems:search` (by album), `GET /v1/mediaItems` and `GET /v1/mediaItems/{id}`. */
export const mediaItemsRoutes: FastifyPluginAsync<{
  caller: PhotosCaller;
  store: PhotosStore;
  baseUrl: MediaBaseUrl;
}> = async (app, { caller, store, baseUrl }) => {
  app.post("/v1/mediaItems::search", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.read);
    if (owner === undefined) return reply;
    const input = parseSearch(request.body);
    if ("error" in input) return sendInvalidArgument(reply, input.error);
    let items = store.mediaItemsOf(owner);
    if (input.albumId !== undefined) {
      const album = store.album(owner, input.albumId);
      if (album === undefined) return sendNotFound(reply);
      items = album.mediaItemIds.flatMap((id) => store.mediaItem(owner, id) ?? []);
    }
    const page = paginate(items, [owner, input.albumId ?? ""], input.pageSize, input.pageToken);
    if (page === undefined) return sendInvalidArgument(reply, "Invalid pageToken.");
    return sendItems(request, reply, page, (item) => baseUrl(request, item));
  });

  app.get("/v1/mediaItems", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.read);
    if (owner === undefined) return reply;
    const pageSize = pageSizeOf(queryParam(request, "pageSize"), 25, 100);
    if (pageSize === undefined) return sendInvalidArgument(reply, "Invalid pageSize.");
    const items = store.mediaItemsOf(owner);
    const page = paginate(items, [owner, ""], pageSize, queryParam(request, "pageToken"));
    if (page === undefined) return sendInvalidArgument(reply, "Invalid pageToken.");
    return sendItems(request, reply, page, (item) => baseUrl(request, item));
  });

  app.get<{ Params: { mediaItemId: string } }>("/v1/mediaItems/:mediaItemId", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.read);
    if (owner === undefined) return reply;
    const item = store.mediaItem(owner, request.params.mediaItemId);
    if (item === undefined) return sendNotFound(reply);
    return send(request, reply, mediaItemResource(item, baseUrl(request, item)));
  });
};
