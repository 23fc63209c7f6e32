import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { queryParam } from "../../api-params.js";
import { PHOTOS_SCOPES } from "../../api-scopes.js";
import { albumResource, pageSizeOf } from "../../photos-resource.js";
import type { PhotosOwner, PhotosStore } from "../../photos-store.js";
import type { PhotosCaller } from "./caller.js";
import type { MediaBaseUrl } from "./media-urls.js";
import { paginate, send, sendInvalidArgument, sendNotFound } from "./respond.js";

/** `POST|GET /v1/albums`, `GET /v1/albums/{albumId}`: the app's own albums. */
export const albumsRoutes: FastifyPluginAsync<{
  caller: PhotosCaller;
  store: PhotosStore;
  baseUrl: MediaBaseUrl;
}> = async (app, { caller, store, baseUrl }) => {
  const coverOf = (request: FastifyRequest, owner: PhotosOwner, ids: readonly string[]) => {
    const cover = ids[0] === undefined ? undefined : store.mediaItem(owner, ids[0]);
    return cover && baseUrl(request, cover);
  };

  app.post("/v1/albums", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.append);
    if (owner === undefined) return reply;
    const album = (request.body as { album?: { title?: unknown } } | undefined)?.album;
    const title = album?.title;
    if (typeof title !== "string" || title.trim() === "" || title.length > 500) {
      return sendInvalidArgument(reply, "Album title must be 1 to 500 characters.");
    }
    return send(request, reply, albumResource(store.createAlbum(owner, title), undefined));
  });

  app.get("/v1/albums", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.read);
    if (owner === undefined) return reply;
    const pageSize = pageSizeOf(queryParam(request, "pageSize"), 20, 50);
    if (pageSize === undefined) return sendInvalidArgument(reply, "Invalid pageSize.");
    const page = paginate(store.albumsOf(owner), owner, pageSize, queryParam(request, "pageToken"));
    if (page === undefined) return sendInvalidArgument(reply, "Invalid pageToken.");
    const albums = page.items.map((album) =>
      albumResource(album, coverOf(request, owner, album.mediaItemIds)),
    );
    return send(request, reply, { ...(albums.length > 0 ? { albums } : {}), ...page.next });
  });

  app.get<{ Params: { albumId: string } }>("/v1/albums/:albumId", (request, reply) => {
    const owner = caller(request, reply, PHOTOS_SCOPES.read);
    if (owner === undefined) return reply;
    const album = store.album(owner, request.params.albumId);
    if (album === undefined) return sendNotFound(reply);
    return send(request, reply, albumResource(album, coverOf(request, owner, album.mediaItemIds)));
  });
};
