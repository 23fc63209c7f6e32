import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { StewardError } from "../errors.js";
import type { Keyring } from "./keyring.js";

/**
 * The sealed form of one secret, stored as `bytea`:
 *
 * ```
 * byte 0        format version (1)
 * byte 1        n, the length of the kid
 * bytes 2..2+n  kid (ASCII)
 * 12 bytes      IV (random per seal)
 * 16 bytes      GCM authentication tag
 * rest          AES-256-GCM ciphertext
 * ```
 *
 * The additional authenticated data is the header (version and kid) followed by a caller's
 * context, for credentials the field name and the owner's `sub`: an envelope copied into
 * another user's row, or from the access-token column into the refresh-token column, does not
 * open. node:crypto is used directly because jose's compact JWE is about 25x slower here and
 * could not re-seal tens of thousands of credentials per second.
 */
export const ENVELOPE_VERSION = 1;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = "aes-256-gcm";

/**
 * Seals `plaintext` (a string is taken as UTF-8) with the keyring's active key.
 *
 * @param context bound into the authentication tag; the same context must be given to open.
 * @example
 *   const sealed = sealSecret(keyring, refreshToken, credentialContext(sub, "refresh_token"));
 */
export function sealSecret(
  keyring: Keyring,
  plaintext: string | Uint8Array,
  context: string,
): Buffer {
  const header = headerFor(keyring.activeKid);
  const iv = nextIv();
  const cipher = createCipheriv(ALGORITHM, keyring.activeKey(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(header, context));
  const first =
    typeof plaintext === "string" ? cipher.update(plaintext, "utf8") : cipher.update(plaintext);
  const last = cipher.final();
  return Buffer.concat([header, iv, cipher.getAuthTag(), first, last]);
}

/**
 * Opens an envelope sealed by {@link sealSecret} with any key of the ring.
 *
 * @param expectedKid when given, an envelope naming another kid is refused as corrupt (the
 *   store passes the kid its row records).
 * @throws StewardError `key_missing` when the envelope names a kid the ring lacks (the message
 *   names the kid); `credential_corrupt` when it is malformed, of an unknown version, names a
 *   kid other than `expectedKid`, or fails authentication (tampered, or another context).
 * @example
 *   const token = openSecret(keyring, row.refresh_token, credentialContext(sub, "refresh_token"));
 */
export function openSecret(
  keyring: Keyring,
  envelope: Uint8Array,
  context: string,
  expectedKid?: string,
): string {
  return openSecretBytes(keyring, envelope, context, expectedKid).toString("utf8");
}

/** {@link openSecret}, returning the plaintext's bytes (re-sealing needs no string). */
export function openSecretBytes(
  keyring: Keyring,
  envelope: Uint8Array,
  context: string,
  expectedKid?: string,
): Buffer {
  const bytes = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length);
  const kid = envelopeKid(bytes);
  if (expectedKid !== undefined && kid !== expectedKid) {
    throw corrupt(`the envelope names kid '${kid}', its row '${expectedKid}'`);
  }
  const key = keyring.key(kid);
  if (key === undefined) {
    throw new StewardError("key_missing", {
      message: `A secret is sealed with key '${kid}', which STEWARD_KEYS does not hold.`,
    });
  }
  const headerLength = 2 + kid.length;
  const ivEnd = headerLength + IV_BYTES;
  const tagEnd = ivEnd + TAG_BYTES;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(headerLength, ivEnd), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(bytes.subarray(0, headerLength), context));
    decipher.setAuthTag(bytes.subarray(ivEnd, tagEnd));
    const first = decipher.update(bytes.subarray(tagEnd));
    const last = decipher.final();
    return last.length === 0 ? first : Buffer.concat([first, last]);
  } catch (cause) {
    throw new StewardError("credential_corrupt", {
      detail: `envelope sealed with kid '${kid}' failed authentication`,
      cause,
    });
  }
}

/**
 * The kid an envelope names, read from its header without opening it.
 *
 * @throws StewardError `credential_corrupt` when the bytes are not a version-1 envelope.
 */
export function envelopeKid(envelope: Uint8Array): string {
  if (envelope.length < 2 || envelope[0] !== ENVELOPE_VERSION) {
    throw corrupt("unknown envelope version or truncated header");
  }
  const kidLength = envelope[1] as number;
  if (kidLength === 0 || envelope.length < 2 + kidLength + IV_BYTES + TAG_BYTES) {
    throw corrupt("truncated envelope");
  }
  const kid = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length).toString(
    "latin1",
    2,
    2 + kidLength,
  );
  if (!/^[A-Za-z0-9._-]+$/.test(kid)) throw corrupt("the kid in the header is malformed");
  return kid;
}

// randomBytes(12) costs about as much as the encryption itself; filling a pool and handing out
// fresh slices gives the same CSPRNG output at a fraction of the cost. Each slice is used once.
const ivPool = Buffer.allocUnsafe(IV_BYTES * 1024);
let ivOffset = ivPool.length;

function nextIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** The header followed by the context's UTF-8 bytes, in one allocation. */
function additionalData(header: Buffer, context: string): Buffer {
  const data = Buffer.allocUnsafe(header.length + Buffer.byteLength(context, "utf8"));
  header.copy(data, 0);
  data.write(context, header.length, "utf8");
  return data;
}

const headers = new Map<string, Buffer>();

function headerFor(kid: string): Buffer {
  let header = headers.get(kid);
  if (header === undefined) {
    header = Buffer.concat([
      Buffer.from([ENVELOPE_VERSION, kid.length]),
      Buffer.from(kid, "latin1"),
    ]);
    headers.set(kid, header);
  }
  return header;
}

function corrupt(detail: string): StewardError {
  return new StewardError("credential_corrupt", { detail });
}
