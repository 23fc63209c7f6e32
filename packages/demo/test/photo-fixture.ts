import sharp from "sharp";

/**
 * A dull test photo: a low-contrast gradient with soft circles, as a JPEG, so that enhancing it
 * (levels stretched, sharpened) visibly changes it. Made on the fly: no binary fixture to keep.
 */
export async function dullPhoto(width = 480, height = 320): Promise<Buffer<ArrayBuffer>> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ring = Math.sin(Math.hypot(x - width / 3, y - height / 2) / 9) * 12;
      const at = (y * width + x) * 3;
      pixels[at] = 100 + Math.round((x / width) * 40 + ring);
      pixels[at + 1] = 110 + Math.round((y / height) * 30 + ring);
      pixels[at + 2] = 120 + Math.round(((x + y) / (width + height)) * 20 - ring);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}
