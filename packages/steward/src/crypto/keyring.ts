import { createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { StewardError } from "../errors.js";

/** What a key id may look like: short, printable, safe in logs, SQL and file names. */
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** 32 bytes in standard base64 (padding optional) or base64url. */
const KEY_PATTERN = /^(?:[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43})$/;
const KEY_BYTES = 32;

/**
 * The AES-256 keys Steward seals secrets with, each named by a key id (`kid`).
 *
 * The first key is the active one: everything new is sealed with it. The others stay only to
 * open what they sealed until `steward keys rotate` has re-sealed it. Key material is held as
 * `KeyObject`s, so neither `console.log`, `JSON.stringify` nor a logger can print it.
 *
 * @example
 *   const keyring = Keyring.parse(process.env.STEWARD_KEYS ?? "");
 *   keyring.activeKid; // "k2"
 */
export class Keyring {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  /** The kid new secrets are sealed with. */
  readonly activeKid: string;
  /** Every kid of the ring, the active one first. */
  readonly kids: readonly string[];

  private constructor(keys: ReadonlyMap<string, KeyObject>) {
    const kids = [...keys.keys()];
    if (kids.length === 0) throw new TypeError("a keyring needs at least one key");
    this.#keys = keys;
    this.kids = Object.freeze(kids);
    this.activeKid = kids[0] as string;
  }

  /**
   * Parses `kid:base64(32 bytes)` entries, comma separated, the first one active.
   *
   * @param value the variable's value, e.g. `k2:3q2+7w...=,k1:AAEC...=`
   * @param variable the name used in error messages (never the value itself)
   * @throws StewardError `keys_invalid` when the value is empty, an entry is malformed, a key
   *   is not base64 of exactly 32 bytes, or a kid repeats; the message names the variable and
   *   the entry's position, never its kid nor its key: an entry written backwards
   *   (`key:kid`) has a key where the kid belongs, and an unpadded key is a valid kid.
   */
  static parse(value: string, variable = "STEWARD_KEYS"): Keyring {
    const entries = value.split(",").map((entry) => entry.trim());
    if (value.trim() === "") {
      throw invalid(`${variable} is empty; expected kid:base64(32 bytes), comma separated.`);
    }
    const keys = new Map<string, KeyObject>();
    entries.forEach((entry, index) => {
      const position = `${variable} entry ${index + 1}`;
      const colon = entry.indexOf(":");
      if (colon < 0) throw invalid(`${position} is not of the form kid:base64(32 bytes).`);
      // What stands before the colon may be a key (an entry written backwards), so no message
      // below quotes it: entries are named by position only.
      const kid = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      if (!KID_PATTERN.test(kid)) {
        throw invalid(`${position}: a kid is 1 to 64 of A-Z a-z 0-9 . _ - characters.`);
      }
      if (keys.has(kid)) {
        const first = [...keys.keys()].indexOf(kid) + 1;
        throw invalid(`${position}: its kid repeats the kid of entry ${first}.`);
      }
      if (!KEY_PATTERN.test(encoded)) {
        throw invalid(
          KEY_PATTERN.test(kid)
            ? `${position} looks backwards: write the kid first, then the key (kid:key).`
            : `${position}: the key is not base64 of 32 bytes.`,
        );
      }
      const bytes = Buffer.from(
        encoded,
        encoded.includes("-") || encoded.includes("_") ? "base64url" : "base64",
      );
      if (bytes.length !== KEY_BYTES) {
        throw invalid(`${position}: the key is not base64 of 32 bytes.`);
      }
      keys.set(kid, createSecretKey(bytes));
      bytes.fill(0);
    });
    return new Keyring(keys);
  }

  /** Whether the ring holds a key with this id. */
  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** The key for `kid`, or undefined. Only the envelope code needs this. */
  key(kid: string): KeyObject | undefined {
    return this.#keys.get(kid);
  }

  /** The active key. */
  activeKey(): KeyObject {
    return this.#keys.get(this.activeKid) as KeyObject;
  }

  toJSON(): { activeKid: string; kids: readonly string[] } {
    return { activeKid: this.activeKid, kids: this.kids };
  }

  [inspect.custom](): string {
    return `Keyring { active: '${this.activeKid}', kids: [${this.kids.map((k) => `'${k}'`).join(", ")}] }`;
  }
}

/**
 * A fresh key line, `kid:base64(32 random bytes)`, for `STEWARD_KEYS`.
 *
 * @param kid the key id; by default `k` plus today's date and 4 random hex digits, so keys sort
 *   by age, e.g. `k20261126-3fa2`.
 * @throws TypeError when `kid` is not 1 to 64 of `A-Z a-z 0-9 . _ -`.
 * @example
 *   generateKeyLine("k2"); // "k2:q7Jx...="
 */
export function generateKeyLine(kid: string = defaultKid()): string {
  if (!KID_PATTERN.test(kid)) {
    throw new TypeError("a kid is 1 to 64 of A-Z a-z 0-9 . _ - characters");
  }
  return `${kid}:${randomBytes(KEY_BYTES).toString("base64")}`;
}

function defaultKid(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  return `k${day}-${randomBytes(2).toString("hex")}`;
}

function invalid(message: string): StewardError {
  return new StewardError("keys_invalid", { message });
}
