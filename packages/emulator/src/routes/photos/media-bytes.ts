import type { FastifyPluginAsync } from "fastify";
import { sendMedia } from "../../api-params.js";
import type { MediaUrlSigner } from "../../media-url.js";
import type { PhotosStore } from "../../photos-store.js";
import { MEDIA_BASE_PATH } from "./media-urls.js";

/**
 * `GET /lh3/lr/{key}`: a media item's bytes at its signed `baseUrl`. `{baseUrl}=w640-h480`,
 * `=d` (download), `=dv` (video): options are accepted, the original bytes are served.
 */
export const mediaBytesRoute: FastifyPluginAsync<{
  store: PhotosStore;
  signer: MediaUrlSigner;
}> = async (app, { store, signer }) => {
  app.get<{ Params: { key: string } }>(`${MEDIA_BASE_PATH}/:key`, (request, reply) => {
    const [key = "", options = ""] = request.params.key.split("=", 2);
    const verified = /^[A-Za-z0-9-]*$/.test(options) ? signer.verify(key) : undefined;
    const item =
      typeof verified === "object" ? store.mediaItemById(verified.mediaItemId) : undefined;
    if (item === undefined) {
      return reply
        .code(verified === "expired" ? 403 : 404)
        .type("text/plain")
        .send(verified === "expired" ? "This base URL has expired." : "Not Found");
    }
    return sendMedia(request, reply, item.bytes, item.mimeType);
  });
};
