import { createHash, timingSafeEqual } from "node:crypto";
import type { TokenIdentifierAlg } from "../google/security-event.js";

/** RISC's `prefix` identifier: the refresh token's first 16 characters. */
const PREFIX_LENGTH = 16;

/**
 * RISC's `hash_base64_sha512_sha512` identifier: base64 (standard alphabet, padded) of
 * SHA-512(SHA-512(UTF-8 token)). Google does not spell the encoding out; this is what public
 * implementations compute.
 */
export function doubleSha512(token: string): string {
  const inner = createHash("sha512").update(token, "utf8").digest();
  return createHash("sha512").update(inner).digest("base64");
}

/**
 * A predicate telling whether a refresh token is the one a token-revoked event names, compared
 * in constant time (the identifier is computed once, the candidates are many).
 *
 * @example
 *   const matches = refreshTokenMatcher("prefix", "1//0abcdefghijk");
 *   matches(storedRefreshToken);
 */
export function refreshTokenMatcher(
  alg: TokenIdentifierAlg,
  identifier: string,
): (refreshToken: string) => boolean {
  const wanted = Buffer.from(identifier, "utf8");
  const sameAs = (candidate: string) => {
    const given = Buffer.from(candidate, "utf8");
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  };
  if (alg === "prefix") {
    // A shorter "prefix" would match many tokens: only Google's 16 characters are taken.
    if (identifier.length !== PREFIX_LENGTH) return () => false;
    return (refreshToken) => sameAs(refreshToken.slice(0, PREFIX_LENGTH));
  }
  return (refreshToken) => sameAs(doubleSha512(refreshToken));
}
