import { KeyObject, verify } from "node:crypto";
import {
  type CompactJWSHeaderParameters,
  errors,
  type JWSHeaderParameters,
  type JWTClaimVerificationOptions,
  type JWTPayload,
  type JWTVerifyGetKey,
  UnsecuredJWT,
} from "jose";

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The header jose's `UnsecuredJWT.decode` wants in front of a payload whose claims it checks. */
const UNSECURED_HEADER = Buffer.from('{"alg":"none"}').toString("base64url");
/** node:crypto keys made from jose's CryptoKeys, made once per key (jose caches its keys too). */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/**
 * jose's `jwtVerify` for one algorithm, RS256, with the signature checked by node:crypto.
 * Why: jose checks signatures through WebCrypto, a job on libuv's thread pool per call, which
 * cost a busy server about three times node:crypto's own verify per token. Everything else is
 * still jose's: the key comes from `getKey` (jose's remote key set), and the claims (`iss`,
 * `aud`, `exp`, `nbf`, required claims, clock tolerance) are judged by jose's claim-set checks,
 * which `UnsecuredJWT.decode` runs on the payload once its signature is known good.
 *
 * @throws jose's errors, as `jwtVerify` would: JWSInvalid for a malformed token or a `crit`
 *   header, JOSEAlgNotAllowed for any `alg` but RS256, JOSENotSupported for a key that is not an
 *   RSA public key of at least 2048 bits, JWSSignatureVerificationFailed, and the JWT claim errors.
 */
export async function verifyRs256Jwt(
  token: string,
  getKey: JWTVerifyGetKey,
  claims: JWTClaimVerificationOptions,
): Promise<JWTPayload> {
  const parts = token.split(".");
  const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    throw new errors.JWSInvalid("Invalid Compact JWS");
  }
  const header = parseHeader(encodedHeader);
  // No extension is understood here, so none may be critical (b64: false among them).
  if (header.crit !== undefined) throw new errors.JWSInvalid('"crit" is not supported');
  if (header.alg !== "RS256") {
    throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  }
  const key = publicKeyOf(
    await getKey(header as CompactJWSHeaderParameters, {
      protected: encodedHeader,
      payload: encodedPayload,
      signature,
    }),
  );
  const signed = Buffer.from(token.slice(0, encodedHeader.length + 1 + encodedPayload.length));
  if (!verify("sha256", signed, key, Buffer.from(signature, "base64url"))) {
    throw new errors.JWSSignatureVerificationFailed();
  }
  return UnsecuredJWT.decode(`${UNSECURED_HEADER}.${encodedPayload}.`, claims).payload;
}

function parseHeader(encoded: string): JWSHeaderParameters {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
  } catch {
    throw new errors.JWSInvalid("JWS Protected Header is invalid");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new errors.JWSInvalid("JWS Protected Header is invalid");
  }
  return header as JWSHeaderParameters;
}

/** The key as node:crypto's KeyObject, refused unless it is an RSA public key of 2048 bits or more. */
function publicKeyOf(key: unknown): KeyObject {
  let keyObject: KeyObject | undefined;
  if (key instanceof KeyObject) keyObject = key;
  else if (key instanceof CryptoKey) {
    keyObject = keyObjects.get(key);
    if (keyObject === undefined) {
      keyObject = KeyObject.from(key);
      keyObjects.set(key, keyObject);
    }
  }
  const bits = keyObject?.asymmetricKeyDetails?.modulusLength ?? 0;
  if (
    keyObject === undefined ||
    keyObject.type !== "public" ||
    keyObject.asymmetricKeyType !== "rsa" ||
    bits < 2048
  ) {
    throw new errors.JOSENotSupported("RS256 needs an RSA public key of at least 2048 bits");
  }
  return keyObject;
}
