import type { Emulator } from "@steward/emulator";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeCode, sdkSignIn, withEmulator } from "../../steward/test/emulator/helpers.js";
import { AlbumDirectory, ENHANCED_ALBUM } from "../src/albums.js";
import { ENHANCE_SCOPES, enhancePhotoHandler } from "../src/enhance-photo.js";
import { PHOTOS_APPEND_SCOPE, PHOTOS_READ_SCOPE } from "../src/features.js";
import { enhanceImage, inspectImage } from "../src/image.js";
import { PhotosLibrary, Serial } from "../src/photos.js";
import { dullPhoto } from "./photo-fixture.js";

let google: Emulator;
beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google?.close());

/** A user's `fetch` to the emulator with a real access token, as a job's `google.fetch` is. */
async function userFetch(email: string, scopes: string[]) {
  const { serverAuthCode, sub } = await sdkSignIn(google, { email, scopes });
  const { body } = await exchangeCode(google, serverAuthCode);
  const fetchAs = (url: string | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${body.access_token}`);
    return fetch(url, { ...init, headers });
  };
  return { sub, fetchAs };
}

const isMediaUrl = (url: URL) => url.origin === new URL(google.url).origin;

describe("enhanceImage", () => {
  it("stretches levels and sharpens: new bytes, same size, still a JPEG, more contrast", async () => {
    const original = await dullPhoto();
    const enhanced = await enhanceImage(original);
    expect(enhanced.mimeType).toBe("image/jpeg");
    expect(Buffer.compare(enhanced.bytes, original)).not.toBe(0);
    const meta = await sharp(enhanced.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 480, 320]);
    const spread = async (bytes: Buffer) => {
      const [red] = (await sharp(bytes).stats()).channels;
      return (red?.max ?? 0) - (red?.min ?? 0);
    };
    expect(await spread(enhanced.bytes)).toBeGreaterThan((await spread(original)) + 60);
  });

  it("keeps PNG as PNG and refuses what is not a raster photo", async () => {
    const png = await sharp(await dullPhoto(64, 64))
      .png()
      .toBuffer();
    expect((await enhanceImage(png)).mimeType).toBe("image/png");
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    for (const bytes of [svg, Buffer.from("<html><script>alert(1)</script>"), Buffer.alloc(0)]) {
      await expect(inspectImage(bytes)).rejects.toMatchObject({ code: "unsupported_media_type" });
    }
  });
});

describe("the enhance-photo job handler", () => {
  it("downloads the original as the user, uploads an enhanced copy into the Enhanced album", async () => {
    const { sub, fetchAs } = await userFetch("enhance@example.com", [...ENHANCE_SCOPES]);
    const photos = new PhotosLibrary(fetchAs, google.url, isMediaUrl);
    const album = await photos.createAlbum("Steward demo");
    const bytes = await dullPhoto();
    const original = await photos.upload(bytes, {
      mimeType: "image/jpeg",
      fileName: "beach.jpg",
      albumId: album.id,
    });
    const handler = enhancePhotoHandler({
      photosBase: google.url,
      isMediaUrl,
      albums: new AlbumDirectory(),
      serial: new Serial(),
    });
    const context = {
      sub,
      data: { mediaItemId: original.id },
      google: { fetch: fetchAs },
      signal: new AbortController().signal,
    };
    const result = await handler(context);
    // A second run (a retry after Google made the copy, or the photo asked again) answers with
    // that copy: one album, one enhanced item.
    expect(await handler(context)).toEqual({
      mediaItemId: result.mediaItemId,
      albumId: result.albumId,
    });

    const enhancedAlbums = (await photos.albums()).filter((a) => a.title === ENHANCED_ALBUM);
    expect(enhancedAlbums.map((a) => a.id)).toEqual([result.albumId]);
    const items = await photos.itemsOf(result.albumId);
    expect(items.map((item) => [item.id, item.filename])).toEqual([
      [result.mediaItemId, "beach-enhanced.jpg"],
    ]);
    const downloaded = await photos.download(items[0] as (typeof items)[number]);
    expect(Buffer.compare(downloaded.bytes, bytes)).not.toBe(0);
    expect((await sharp(downloaded.bytes).metadata()).format).toBe("jpeg");
    expect(result.originalBytes).toBe(bytes.length);
  });

  it("fails with a typed error when the user lacks read access or the item is not theirs", async () => {
    const handler = enhancePhotoHandler({
      photosBase: google.url,
      isMediaUrl,
      albums: new AlbumDirectory(),
      serial: new Serial(),
    });
    const appendOnly = await userFetch("append@example.com", [PHOTOS_APPEND_SCOPE]);
    const run = (user: typeof appendOnly, mediaItemId: string) =>
      handler({
        sub: user.sub,
        data: { mediaItemId },
        google: { fetch: user.fetchAs },
        signal: new AbortController().signal,
      });
    await expect(run(appendOnly, "AAAA")).rejects.toMatchObject({ code: "scope_not_granted" });
    const other = await userFetch("other@example.com", [PHOTOS_APPEND_SCOPE, PHOTOS_READ_SCOPE]);
    await expect(run(other, "AAAA")).rejects.toMatchObject({ code: "not_found" });
    await expect(run(other, "../../etc")).rejects.toMatchObject({ code: "invalid_request" });
  });
});
