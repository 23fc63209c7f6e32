import { type GoogleAccess, type JobContext, StewardError } from "steward";
import { type AlbumDirectory, ENHANCED_ALBUM } from "./albums.js";
import { PHOTOS_APPEND_SCOPE, PHOTOS_READ_SCOPE } from "./features.js";
import { enhanceImage } from "./image.js";
import { PhotosLibrary, type Serial } from "./photos.js";

/** The job's name in the queue. */
export const ENHANCE_JOB = "demo.enhance-photo";
/** Reading the original and uploading the result: the job needs both. */
export const ENHANCE_SCOPES: readonly string[] = Object.freeze([
  PHOTOS_READ_SCOPE,
  PHOTOS_APPEND_SCOPE,
]);

export interface EnhanceInput {
  /** A media item the demo uploaded for the user. */
  readonly mediaItemId: string;
}

export interface EnhanceResult {
  /** The enhanced copy, in the "Enhanced" album. */
  readonly mediaItemId: string;
  readonly albumId: string;
  /** The sizes, when this run made the copy; absent when an earlier attempt had made it. */
  readonly originalBytes?: number;
  readonly enhancedBytes?: number;
}

/** What the job needs from the Photos side; shared with the demo API in the same process. */
export interface EnhanceDependencies {
  /** `https://photoslibrary.googleapis.com`, or the emulator. */
  readonly photosBase: string;
  readonly isMediaUrl: (url: URL) => boolean;
  readonly albums: AlbumDirectory;
  /** Serialises `batchCreate` per user, as Google asks. */
  readonly serial: Serial;
}

/** The part of a job's {@link JobContext} the handler uses; job data is checked, not trusted. */
export type EnhanceJobContext = Pick<JobContext<unknown>, "sub" | "data" | "signal"> & {
  readonly google: Pick<GoogleAccess, "fetch">;
};

/**
 * The job behind "Enhance while I'm away": download the original as the user (who is offline),
 * enhance it with sharp, upload the result into the app's "Enhanced" album. Once per photo:
 * a retry, or the same photo asked again, answers with the copy already made.
 *
 * @throws StewardError `invalid_request` (bad job data), `not_found` (no such item),
 *   `unsupported_media_type`, and those of the user's access (`credential_revoked`,
 *   `scope_not_granted`, `upstream_unavailable`, ...), which the job records as its error.
 */
export function enhancePhotoHandler(deps: EnhanceDependencies) {
  return async (ctx: EnhanceJobContext): Promise<EnhanceResult> => {
    const { mediaItemId } = enhanceInput(ctx.data);
    const photos = new PhotosLibrary(ctx.google.fetch, deps.photosBase, deps.isMediaUrl);
    const original = await photos.item(mediaItemId);
    const album = await deps.albums.named(ctx.sub, photos, ENHANCED_ALBUM, true);
    // An attempt may fail after Google made the copy (a timeout, a crash before the job was
    // marked done): its retry finds that copy by its description instead of making another.
    const description = `Enhanced by Steward from ${mediaItemId}`;
    const made = (await photos.itemsOf(album.id)).find((item) => item.description === description);
    if (made !== undefined) return { mediaItemId: made.id, albumId: album.id };
    const { bytes } = await photos.download(original, { signal: ctx.signal });
    const enhanced = await enhanceImage(bytes);
    ctx.signal.throwIfAborted();
    const item = await deps.serial
      .run(ctx.sub, () =>
        photos.upload(enhanced.bytes, {
          mimeType: enhanced.mimeType,
          fileName: enhancedName(original.filename, enhanced.mimeType),
          albumId: album.id,
          description,
        }),
      )
      .catch((error: unknown) => {
        deps.albums.forget(ctx.sub, ENHANCED_ALBUM);
        throw error;
      });
    return {
      mediaItemId: item.id,
      albumId: album.id,
      originalBytes: bytes.length,
      enhancedBytes: enhanced.bytes.length,
    };
  };
}

/** Job data comes back from the database: check it as untrusted input. */
export function enhanceInput(data: unknown): EnhanceInput {
  const id = (data as { mediaItemId?: unknown } | null)?.mediaItemId;
  if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,200}$/.test(id)) {
    throw new StewardError("invalid_request", { message: "mediaItemId is missing or malformed." });
  }
  return { mediaItemId: id };
}

function enhancedName(filename: string, mimeType: string): string {
  const stem = filename.replace(/\.[^.]*$/, "") || "photo";
  const extension = { "image/png": "png", "image/webp": "webp" }[mimeType] ?? "jpg";
  return `${stem}-enhanced.${extension}`;
}
