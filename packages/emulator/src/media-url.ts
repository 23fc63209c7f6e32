import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Google documents that a media item's `baseUrl` works for 60 minutes. */
const BASE_URL_TTL_MS = 60 * 60 * 1000;

/**
 * Signed, expiring keys for media items' `baseUrl`s. Like lh3.googleusercontent.com URLs they
 * need no access token, so the key itself must be unguessable: the item id, an expiry and an
 * HMAC over both with a secret of this emulator run.
 */
export class MediaUrlSigner {
  /** @param secret keys the HMAC; a persisted emulator keeps it, so old URLs keep working. */
  constructor(
    private readonly now: () => number,
    private readonly secret: Buffer = randomBytes(32),
  ) {}

  /** A key for `mediaItemId`, valid for an hour. */
  sign(mediaItemId: string): string {
    const expiresAtSeconds = Math.floor((this.now() + BASE_URL_TTL_MS) / 1000);
    const payload = `${mediaItemId}.${expiresAtSeconds}`;
    return `${payload}.${this.mac(payload)}`;
  }

  /** The media item id of a valid key, "expired", or undefined for a key that is not ours. */
  verify(key: string): { mediaItemId: string } | "expired" | undefined {
    const [mediaItemId, expiry, mac, ...rest] = key.split(".");
    if (mediaItemId === undefined || expiry === undefined || mac === undefined || rest.length > 0) {
      return undefined;
    }
    const expected = Buffer.from(this.mac(`${mediaItemId}.${expiry}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return Number(expiry) * 1000 <= this.now() ? "expired" : { mediaItemId };
  }

  private mac(payload: string): string {
    return createHmac("sha256", this.secret).update(payload).digest("base64url").slice(0, 27);
  }
}
