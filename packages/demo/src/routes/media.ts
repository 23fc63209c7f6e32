import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { errorResponses, StewardError } from "steward";
import { ACCEPTED_MIME_TYPES } from "../image.js";
import type { PhotosAccess } from "../photos-access.js";
import { MediaItemId } from "../schemas.js";
import type { CurrentUser } from "../user.js";

export interface MediaRouteOptions {
  user: CurrentUser;
  photos: PhotosAccess["as"];
}

/** `GET /demo/api/media/:id`: a photo's bytes, fetched as the user, served from our origin. */
export const mediaRoute: FastifyPluginAsync<MediaRouteOptions> = async (app, { user, photos }) => {
  app.get<{ Params: { id: string } }>(
    "/demo/api/media/:id",
    {
      schema: {
        tags: ["demo"],
        params: Type.Object({ id: MediaItemId }),
        response: errorResponses(401, 403, 404, 409, 413, 415, 502),
      },
    },
    async (request, reply) => {
      const sub = await user(request);
      const library = photos(sub);
      const item = await library.item(request.params.id);
      const media = await library.download(item, { size: "w2048-h2048" });
      // Only images are served from our origin: an HTML "photo" here would be a stored XSS.
      const mimeType = media.mimeType.split(";")[0]?.trim().toLowerCase() ?? "";
      if (!ACCEPTED_MIME_TYPES.includes(mimeType)) throw new StewardError("unsupported_media_type");
      return reply
        .type(mimeType)
        .header("cache-control", "private, max-age=300")
        .header("content-disposition", "inline")
        .send(media.bytes);
    },
  );
};
