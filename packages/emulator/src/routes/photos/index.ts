import type { FastifyPluginAsync } from "fastify";
import { MediaUrlSigner } from "../../media-url.js";
import { PhotosResumableUploads } from "../../photos-resumable.js";
import type { PhotosStore } from "../../photos-store.js";
import type { EmulatorState } from "../../state.js";
import { albumsRoutes } from "./albums.js";
import { batchCreateRoute } from "./batch-create.js";
import { photosCaller } from "./caller.js";
import { mediaBytesRoute } from "./media-bytes.js";
import { mediaItemsRoutes } from "./media-items.js";
import { mediaBaseUrl } from "./media-urls.js";
import { uploadsRoute } from "./uploads.js";

/**
 * The Photos Library API subset an app needs to put pictures in its own albums: albums (create,
 * list, get), raw and resumable uploads, `mediaItems:batchCreate`, `mediaItems:search` by album,
 * media items (list, get), and a `baseUrl` per item serving its bytes. Everything is per (user,
 * client).
 */
export const photosRoutes: FastifyPluginAsync<{
  state: EmulatorState;
  store: PhotosStore;
}> = async (app, { state, store }) => {
  const signer = new MediaUrlSigner(state.now, store.urlSecret);
  const resumable = new PhotosResumableUploads(state.now, (owner, bytes, mimeType) =>
    store.upload(owner, bytes, mimeType),
  );
  const caller = photosCaller(state);
  const baseUrl = mediaBaseUrl(signer);
  await app.register(albumsRoutes, { caller, store, baseUrl });
  await app.register(uploadsRoute, { caller, store, resumable });
  await app.register(batchCreateRoute, { caller, store });
  await app.register(mediaItemsRoutes, { caller, store, baseUrl });
  await app.register(mediaBytesRoute, { store, signer });
};
