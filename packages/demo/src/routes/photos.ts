import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { type AppContext, errorResponses, StewardError } from "steward";
import { type AlbumDirectory, ORIGINALS_ALBUM } from "../albums.js";
import { type Feature, featuresOf } from "../features.js";
import { ACCEPTED_MIME_TYPES, inspectImage } from "../image.js";
import { MAX_PHOTO_BYTES, type Serial } from "../photos.js";
import type { PhotosAccess } from "../photos-access.js";
import { ItemView } from "../schemas.js";
import { itemView } from "../state.js";
import type { CurrentUser } from "../user.js";

export interface UploadRouteOptions {
  user: CurrentUser;
  guard: AppContext["guardBrowserPost"];
  /** The stored user, for the scopes their grant holds. */
  storedUser: AppContext["user"];
  photos: PhotosAccess["as"];
  albums: AlbumDirectory;
  /** Serialises `batchCreate` per user, as Google asks (shared with the enhancing job). */
  serial: Serial;
}

/** `POST /demo/api/photos`: a photo, as the browser has the file, into the app's album. */
export const uploadRoute: FastifyPluginAsync<UploadRouteOptions> = async (app, options) => {
  const { user, guard, storedUser, photos, albums, serial } = options;
  // Photos arrive as their own bytes; the parser is this plugin's alone.
  app.addContentTypeParser(
    [...ACCEPTED_MIME_TYPES],
    { parseAs: "buffer", bodyLimit: MAX_PHOTO_BYTES },
    (_request, body, done) => done(null, body),
  );
  app.post(
    "/demo/api/photos",
    {
      bodyLimit: MAX_PHOTO_BYTES,
      config: { rateLimited: true },
      preHandler: guard,
      schema: {
        summary: "Upload a photo into the app's album, as the user",
        tags: ["demo"],
        headers: Type.Object({
          "x-file-name": Type.Optional(Type.String({ maxLength: 1024 })),
        }),
        response: {
          200: Type.Object({
            album: Type.Object({ id: Type.String(), title: Type.String() }),
            mediaItem: ItemView,
          }),
          ...errorResponses(400, 401, 403, 409, 413, 415, 429, 502),
        },
      },
    },
    async (request) => {
      const sub = await user(request);
      const bytes = request.body;
      if (!Buffer.isBuffer(bytes)) throw new StewardError("unsupported_media_type");
      const granted = (await storedUser(sub))?.credential?.grantedScopes ?? [];
      requireFeature(granted, "upload");
      const image = await inspectImage(bytes);
      const library = photos(sub);
      const canList = featuresOf(granted).some((f) => f.id === "view" && f.granted);
      const album = await albums.named(sub, library, ORIGINALS_ALBUM, canList);
      const fileName = safeFileName(request.headers["x-file-name"], image.format);
      const item = await serial
        .run(sub, () =>
          library.upload(bytes, { mimeType: image.mimeType, fileName, albumId: album.id }),
        )
        .catch((error: unknown) => {
          albums.forget(sub, ORIGINALS_ALBUM);
          throw error;
        });
      return { album, mediaItem: itemView(item) };
    },
  );
};

/** @throws StewardError `scope_not_granted`, naming the feature the missing scope turns on. */
function requireFeature(granted: readonly string[], id: Feature["id"]): void {
  const feature = featuresOf(granted).find((candidate) => candidate.id === id);
  if (feature && !feature.granted) {
    throw new StewardError("scope_not_granted", {
      message: `${feature.title} is off: you did not allow ${feature.scope}. Sign in again and allow it.`,
    });
  }
}

/** The browser's file name (URI-encoded, as headers are ASCII), without path or odd characters. */
function safeFileName(header: unknown, format: string): string {
  let name = "";
  try {
    name = typeof header === "string" ? decodeURIComponent(header) : "";
  } catch {}
  name = (name.split(/[\\/]/).pop() ?? "").replace(/[^\p{L}\p{N} ._()-]/gu, "").slice(0, 200);
  return name.trim() || `photo.${format === "jpeg" ? "jpg" : format}`;
}
