import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ENVELOPE_VERSION,
  envelopeKid,
  generateKeyLine,
  Keyring,
  openSecret,
  sealSecret,
} from "../../src/crypto/index.js";
import { isStewardError } from "../../src/errors.js";

const k1Line = generateKeyLine("k1");
const k1 = Keyring.parse(k1Line);
const k2k1 = Keyring.parse(`${generateKeyLine("k2")},${k1Line}`);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isStewardError(error)) return error.code;
    throw error;
  }
  return "opened";
}

describe("the sealed envelope", () => {
  it("has the documented layout: version, kid, 12-byte IV, 16-byte tag, ciphertext", () => {
    const sealed = sealSecret(k1, "1//refresh", "ctx");
    expect(sealed[0]).toBe(ENVELOPE_VERSION);
    expect(sealed[1]).toBe(2);
    expect(sealed.subarray(2, 4).toString()).toBe("k1");
    expect(sealed.length).toBe(4 + 12 + 16 + "1//refresh".length);
    expect(sealed.includes(Buffer.from("1//refresh"))).toBe(false);
    expect(envelopeKid(sealed)).toBe("k1");
  });

  it("uses a fresh IV every time", () => {
    const ivs = new Set(
      Array.from({ length: 2000 }, () =>
        sealSecret(k1, "same", "ctx").subarray(4, 16).toString("hex"),
      ),
    );
    expect(ivs.size).toBe(2000);
  });

  it("opens with any key of the ring, and names a kid the ring lacks", () => {
    const old = sealSecret(k1, "token", "ctx");
    expect(openSecret(k2k1, old, "ctx")).toBe("token");
    expect(envelopeKid(sealSecret(k2k1, "token", "ctx"))).toBe("k2");
    const onlyK2 = Keyring.parse(generateKeyLine("k2"));
    expect(() => openSecret(onlyK2, old, "ctx")).toThrow(/key 'k1'/);
    expect(codeOf(() => openSecret(onlyK2, old, "ctx"))).toBe("key_missing");
  });

  it("refuses an envelope naming another kid than its row records", () => {
    expect(codeOf(() => openSecret(k2k1, sealSecret(k1, "t", "ctx"), "ctx", "k2"))).toBe(
      "credential_corrupt",
    );
  });

  it("refuses a truncated envelope or an unknown version", () => {
    const sealed = sealSecret(k1, "token", "ctx");
    expect(codeOf(() => openSecret(k1, sealed.subarray(0, 20), "ctx"))).toBe("credential_corrupt");
    expect(codeOf(() => openSecret(k1, Buffer.alloc(0), "ctx"))).toBe("credential_corrupt");
    const v2 = Buffer.from(sealed);
    v2[0] = 2;
    expect(codeOf(() => openSecret(k1, v2, "ctx"))).toBe("credential_corrupt");
  });

  it("property: whatever the secret and owner, it opens under its own context only", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (secret, sub, otherSub) => {
          const sealed = sealSecret(k2k1, secret, `refresh_token\u0000${sub}`);
          expect(openSecret(k2k1, sealed, `refresh_token\u0000${sub}`)).toBe(secret);
          if (otherSub !== sub) {
            // Copied into another user's row, it does not open.
            expect(codeOf(() => openSecret(k2k1, sealed, `refresh_token\u0000${otherSub}`))).toBe(
              "credential_corrupt",
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: any changed byte is detected, never opened into something else", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (secret, position, flip) => {
          const sealed = sealSecret(k2k1, secret, "ctx");
          const tampered = Buffer.from(sealed);
          const at = position % tampered.length;
          tampered[at] = (tampered[at] as number) ^ flip;
          const code = codeOf(() => openSecret(k2k1, tampered, "ctx"));
          // A changed kid or kid-length byte may name a key the ring lacks; the rest fails as corrupt.
          expect(
            at >= 1 && at < 4 ? ["credential_corrupt", "key_missing"] : ["credential_corrupt"],
          ).toContain(code);
        },
      ),
      { numRuns: 500 },
    );
  });
});
