import { sniffImage } from "./image-info.js";
import type { Album, MediaItem } from "./photos-store.js";

/**
 * The Photos Library API's JSON (Google's field names) for albums and media items, and the
 * checking of request bodies. int64 fields (`mediaItemsCount`, `width`, `height`) are strings,
 * as in every Google JSON API.
 */

type Json = Record<string, unknown>;

export function albumResource(album: Album, coverBaseUrl: string | undefined): Json {
  const cover = album.mediaItemIds[0];
  return {
    id: album.id,
    title: album.title,
    productUrl: `https://photos.google.com/lr/album/${album.id}`,
    isWriteable: true,
    ...(album.mediaItemIds.length > 0
      ? { mediaItemsCount: String(album.mediaItemIds.length) }
      : {}),
    ...(cover !== undefined && coverBaseUrl !== undefined
      ? { coverPhotoBaseUrl: coverBaseUrl, coverPhotoMediaItemId: cover }
      : {}),
  };
}

/** A media item; `baseUrl` is left out where Google leaves it out (batchCreate results). */
export function mediaItemResource(item: MediaItem, baseUrl: string | undefined): Json {
  const size = sniffImage(item.bytes);
  const isVideo = item.mimeType.startsWith("video/");
  return {
    id: item.id,
    ...(item.description === undefined ? {} : { description: item.description }),
    productUrl: `https://photos.google.com/lr/photo/${item.id}`,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    mimeType: item.mimeType,
    mediaMetadata: {
      creationTime: new Date(item.createdTimeMs).toISOString(),
      ...(size?.width === undefined ? {} : { width: String(size.width) }),
      ...(size?.height === undefined ? {} : { height: String(size.height) }),
      ...(isVideo ? { video: { status: "READY" } } : { photo: {} }),
    },
    filename: item.filename,
  };
}

/** At most this many new media items per batchCreate call (Google's documented limit). */
const MAX_NEW_MEDIA_ITEMS = 50;

export interface NewMediaItem {
  readonly uploadToken: string;
  readonly fileName: string | undefined;
  readonly description: string | undefined;
}

export interface BatchCreateRequest {
  readonly albumId: string | undefined;
  readonly newMediaItems: readonly NewMediaItem[];
  readonly position:
    | { readonly kind: "first" | "last" }
    | { readonly kind: "after"; readonly mediaItemId: string };
}

/** A checked `mediaItems:batchCreate` body, or the message of a 400 INVALID_ARGUMENT. */
export function parseBatchCreate(body: unknown): BatchCreateRequest | { error: string } {
  if (!isObject(body)) return { error: "Request must be a JSON object." };
  const { albumId, newMediaItems, albumPosition } = body;
  if (albumId !== undefined && (typeof albumId !== "string" || albumId === "")) {
    return { error: "Invalid albumId." };
  }
  if (!Array.isArray(newMediaItems) || newMediaItems.length === 0) {
    return { error: "Request must contain at least one new media item." };
  }
  if (newMediaItems.length > MAX_NEW_MEDIA_ITEMS) {
    return { error: `Request must not contain more than ${MAX_NEW_MEDIA_ITEMS} new media items.` };
  }
  const items: NewMediaItem[] = [];
  for (const entry of newMediaItems) {
    const simple = isObject(entry) ? entry.simpleMediaItem : undefined;
    if (!isObject(entry) || !isObject(simple) || !isText(simple.uploadToken, 1, 4096)) {
      return { error: "Each new media item needs a simpleMediaItem with an uploadToken." };
    }
    if (!isOptionalText(simple.fileName, 255) || !isOptionalText(entry.description, 1000)) {
      return { error: "Invalid fileName or description (at most 255 and 1000 characters)." };
    }
    items.push({
      uploadToken: simple.uploadToken as string,
      fileName: simple.fileName as string | undefined,
      description: entry.description as string | undefined,
    });
  }
  const position = parsePosition(albumPosition, albumId !== undefined);
  if ("error" in position) return position;
  return { albumId: albumId as string | undefined, newMediaItems: items, position };
}

function parsePosition(
  value: unknown,
  hasAlbum: boolean,
): BatchCreateRequest["position"] | { error: string } {
  if (value === undefined) return { kind: "last" };
  if (!hasAlbum) return { error: "albumPosition can only be set together with albumId." };
  if (!isObject(value)) return { error: "Invalid albumPosition." };
  switch (value.position) {
    case undefined:
    case "LAST_IN_ALBUM":
      return { kind: "last" };
    case "FIRST_IN_ALBUM":
      return { kind: "first" };
    case "AFTER_MEDIA_ITEM":
      return isText(value.relativeMediaItemId, 1, 4096)
        ? { kind: "after", mediaItemId: value.relativeMediaItemId as string }
        : { error: "AFTER_MEDIA_ITEM needs relativeMediaItemId." };
    default:
      return { error: "Invalid albumPosition.position." };
  }
}

export interface SearchRequest {
  readonly albumId: string | undefined;
  readonly pageSize: number;
  readonly pageToken: string | undefined;
}

/**
 * A checked `mediaItems:search` body. Search by album (or over all the app's items); the
 * `filters` and `orderBy` of library-wide search are not modelled and are refused.
 */
export function parseSearch(body: unknown): SearchRequest | { error: string } {
  const input = body === undefined ? {} : body;
  if (!isObject(input)) return { error: "Request must be a JSON object." };
  const { albumId, pageSize, pageToken, filters, orderBy } = input;
  if (albumId !== undefined && !isText(albumId, 1, 4096)) return { error: "Invalid albumId." };
  if (filters !== undefined || orderBy !== undefined) {
    return albumId !== undefined
      ? { error: "albumId cannot be set together with filters or orderBy." }
      : { error: "The emulator does not support search filters or orderBy." };
  }
  const size = pageSizeOf(pageSize, 25, 100);
  if (size === undefined) return { error: "Invalid pageSize." };
  if (pageToken !== undefined && typeof pageToken !== "string")
    return { error: "Invalid pageToken." };
  return { albumId: albumId as string | undefined, pageSize: size, pageToken };
}

/**
 * A page size from a body number or a query string: the default when absent or 0, capped at
 * `max` (Google caps rather than refuses); undefined when negative or not an integer.
 */
export function pageSizeOf(value: unknown, fallback: number, max: number): number | undefined {
  if (value === undefined || value === "") return fallback;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 0) return undefined;
  return number === 0 ? fallback : Math.min(number, max);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isText(value: unknown, min: number, max: number): boolean {
  return typeof value === "string" && value.length >= min && value.length <= max;
}

function isOptionalText(value: unknown, max: number): boolean {
  return value === undefined || isText(value, 0, max);
}
