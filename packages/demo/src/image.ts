import sharp from "sharp";
import { StewardError } from "steward";

/**
 * Raster formats the demo accepts, with the type they are stored under. SVG and PDF are left
 * out on purpose: they are documents (scripts, external references), not photos.
 */
const ACCEPTED: Readonly<Record<string, string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  tiff: "image/tiff",
  heif: "image/heif",
};
/** Media types of the formats above, for request checks before decoding. */
export const ACCEPTED_MIME_TYPES: readonly string[] = Object.freeze([
  ...Object.values(ACCEPTED),
  "image/avif",
  "image/heic",
]);
/** 50 megapixels: a large phone photo, and a cap on what a decompression bomb may cost. */
const MAX_PIXELS = 50_000_000;

export interface ImageInfo {
  readonly format: string;
  readonly mimeType: string;
  readonly width: number;
  readonly height: number;
}

/**
 * What the bytes really are, read from their header (never from a file name or a declared type).
 *
 * @throws StewardError `unsupported_media_type` when they are not an accepted raster image.
 */
export async function inspectImage(bytes: Uint8Array): Promise<ImageInfo> {
  // sharp throws at once for some inputs (an empty buffer) and later for others.
  const metadata = await Promise.resolve()
    .then(() => sharp(bytes, { limitInputPixels: MAX_PIXELS }).metadata())
    .catch(() => undefined);
  const mimeType = metadata?.format && ACCEPTED[metadata.format];
  if (!metadata || !mimeType || !metadata.width || !metadata.height) {
    throw new StewardError("unsupported_media_type", {
      message: "Pick a photo: JPEG, PNG, WebP, GIF, TIFF, HEIF or AVIF.",
    });
  }
  return {
    format: metadata.format as string,
    mimeType,
    width: metadata.width,
    height: metadata.height,
  };
}

/**
 * Enhances a photo the way a one-tap "auto" button does: upright it from its EXIF orientation,
 * stretch its levels to the full range (the darkest and brightest 1% clipped), lift colour
 * a little and sharpen. JPEG, PNG and WebP keep their format; anything else becomes JPEG.
 *
 * @throws StewardError `unsupported_media_type` when the bytes are not an accepted image.
 */
export async function enhanceImage(
  bytes: Uint8Array,
): Promise<{ bytes: Buffer; mimeType: string }> {
  const { format } = await inspectImage(bytes);
  const pipeline = sharp(bytes, { limitInputPixels: MAX_PIXELS })
    .rotate()
    .normalise({ lower: 1, upper: 99 })
    .modulate({ saturation: 1.15 })
    .sharpen({ sigma: 1.2 });
  if (format === "png") return { bytes: await pipeline.png().toBuffer(), mimeType: "image/png" };
  if (format === "webp") {
    return { bytes: await pipeline.webp({ quality: 90 }).toBuffer(), mimeType: "image/webp" };
  }
  return {
    bytes: await pipeline.jpeg({ quality: 90, mozjpeg: true }).toBuffer(),
    mimeType: "image/jpeg",
  };
}
