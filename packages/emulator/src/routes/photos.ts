import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { requireAccessToken } from "../api-auth.js";
import { fieldMaskOf, queryParam, sendMedia } from "../api-params.js";
import { PHOTOS_SCOPES } from "../api-scopes.js";
import { baseUrlOf, type EmulatorContext } from "../context.js";
import { applyFieldMask } from "../fields.js";
import { sendApiError } from "../google-errors.js";
import { mimeTypeFromFilename, sniffImage } from "../image-info.js";
import { MediaUrlSigner } from "../media-url.js";
import { PageTokens } from "../page-token.js";
import {
  albumResource,
  type BatchCreateRequest,
  mediaItemResource,
  pageSizeOf,
  parseBatchCreate,
  parseSearch,
} from "../photos-resource.js";
import { PhotosResumableUploads } from "../photos-resumable.js";
import type { MediaItem, PhotosOwner, PhotosStore } from "../photos-store.js";

/** Where media item bytes are served, standing in for lh3.googleusercontent.com. */
const MEDIA_BASE_PATH = "/lh3/lr";

type Json = Record<string, unknown>;

/**
 * The Photos Library API subset an app needs to put pictures in its own albums: albums (create,
 * list, get), raw and resumable uploads, `mediaItems:batchCreate`, `mediaItems:search` by album, media items
 * (list, get), and a `baseUrl` per item serving its bytes. Everything is per (user, client).
 */
export function photosRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const store = ctx.photos;
  const signer = new MediaUrlSigner(ctx.state.now, store.urlSecret);
  const resumable = new PhotosResumableUploads(ctx.state.now, (owner, bytes, mimeType) =>
    store.upload(owner, bytes, mimeType),
  );
  const caller = (request: FastifyRequest, reply: FastifyReply, scopes: readonly string[]) => {
    const token = requireAccessToken(ctx.state, request, reply, []);
    if (token === undefined) return undefined;
    if (!scopes.some((scope) => token.scopes.includes(scope))) {
      // The Photos API answers a missing scope without Drive's `errors` list.
      reply.header(
        "www-authenticate",
        `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${scopes.join(" ")}"`,
      );
      sendApiError(reply, 403, "Request had insufficient authentication scopes.");
      return undefined;
    }
    // A bad `fields` is refused before anything is written.
    const fields = fieldMaskOf(request);
    if (!fields.ok) {
      sendInvalidArgument(reply, `Invalid field selection ${fields.fields}`);
      return undefined;
    }
    const owner: PhotosOwner = { sub: token.sub, clientId: token.clientId };
    return owner;
  };
  const baseUrl = (request: FastifyRequest, item: MediaItem) =>
    `${baseUrlOf(request)}${MEDIA_BASE_PATH}/${signer.sign(item.id)}`;
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

  // The upload endpoint takes raw bytes whatever their declared type, JSON included.
  app.register(async (uploads) => {
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
  });

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

  // `{baseUrl}=w640-h480`, `=d` (download), `=dv` (video): options are accepted, the original
  // bytes are served.
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
}

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

interface Page<T> {
  readonly items: readonly T[];
  readonly next: { nextPageToken?: string };
}

function paginate<T>(
  all: readonly T[],
  query: unknown,
  pageSize: number,
  pageToken: string | undefined,
): Page<T> | undefined {
  const pages = new PageTokens(query);
  const offset = pages.decode(pageToken);
  if (offset === undefined) return undefined;
  const end = offset + pageSize;
  return {
    items: all.slice(offset, end),
    next: end < all.length ? { nextPageToken: pages.encode(end) } : {},
  };
}

function sendItems(
  request: FastifyRequest,
  reply: FastifyReply,
  page: Page<MediaItem>,
  baseUrl: (item: MediaItem) => string,
) {
  const mediaItems = page.items.map((item) => mediaItemResource(item, baseUrl(item)));
  // An empty page is `{}`, as Google sends it.
  return send(request, reply, { ...(mediaItems.length > 0 ? { mediaItems } : {}), ...page.next });
}

/** Sends JSON through the `fields` selector, if any. */
function send(request: FastifyRequest, reply: FastifyReply, body: Json) {
  const fields = fieldMaskOf(request);
  if (!fields.ok) return sendInvalidArgument(reply, `Invalid field selection ${fields.fields}`);
  return reply
    .type("application/json; charset=UTF-8")
    .send(fields.mask === undefined ? body : applyFieldMask(body, fields.mask));
}

function sendInvalidArgument(reply: FastifyReply, message: string) {
  return sendApiError(reply, 400, message);
}

function sendNotFound(reply: FastifyReply) {
  return sendApiError(reply, 404, "Requested entity was not found.");
}
