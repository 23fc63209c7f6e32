import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { errors, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyRs256Jwt } from "../../src/identity/verify-rs256-jwt.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const claims = { iss: "https://accounts.google.com", aud: "client-1", sub: "1234567890" };
const options = { issuer: "https://accounts.google.com", audience: "client-1" };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function token(header: Record<string, unknown> = {}, key: KeyObject = privateKey) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: "k1", ...header })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe("verifyRs256Jwt", () => {
  it("returns the claims of a good token, from a KeyObject or jose's CryptoKey", async () => {
    const jwt = await token();
    await expect(verifyRs256Jwt(jwt, async () => publicKey, options)).resolves.toMatchObject(
      claims,
    );
    const cryptoKey = await crypto.subtle.importKey(
      "jwk",
      publicKey.export({ format: "jwk" }),
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
    await expect(verifyRs256Jwt(jwt, async () => cryptoKey, options)).resolves.toMatchObject(
      claims,
    );
  });

  it("leaves the claims to jose: a wrong audience fails as jwtVerify fails it", async () => {
    const error = await rejection(
      verifyRs256Jwt(await token(), async () => publicKey, { ...options, audience: "other" }),
    );
    expect(error).toBeInstanceOf(errors.JWTClaimValidationFailed);
  });

  it("refuses a signature by another key, and a payload changed after signing", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = await token({}, other.privateKey);
    expect(await rejection(verifyRs256Jwt(forged, async () => publicKey, options))).toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
    const [header, , signature] = (await token()).split(".");
    const tampered = `${header}.${b64({ ...claims, sub: "999" })}.${signature}`;
    expect(
      await rejection(verifyRs256Jwt(tampered, async () => publicKey, options)),
    ).toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it("refuses a critical header, any alg but RS256, and characters outside base64url", async () => {
    // jose will not sign with an extension it does not know; node:crypto will.
    const critInput = `${b64({ alg: "RS256", kid: "k1", crit: ["x-ext"], "x-ext": 1 })}.${(await token()).split(".")[1]}`;
    const crit = `${critInput}.${sign("sha256", Buffer.from(critInput), privateKey).toString("base64url")}`;
    expect(await rejection(verifyRs256Jwt(crit, async () => publicKey, options))).toBeInstanceOf(
      errors.JWSInvalid,
    );
    const [, payload, signature] = (await token()).split(".");
    const ps256 = `${b64({ alg: "PS256", kid: "k1" })}.${payload}.${signature}`;
    expect(await rejection(verifyRs256Jwt(ps256, async () => publicKey, options))).toBeInstanceOf(
      errors.JOSEAlgNotAllowed,
    );
    const padded = `${(await token()).slice(0, -2)}==`;
    expect(await rejection(verifyRs256Jwt(padded, async () => publicKey, options))).toBeInstanceOf(
      errors.JWSInvalid,
    );
    for (const malformed of ["", "a.b", "a.b.c.d", `${b64([1])}.${payload}.${signature}`]) {
      expect(
        await rejection(verifyRs256Jwt(malformed, async () => publicKey, options)),
      ).toBeInstanceOf(errors.JWSInvalid);
    }
  });

  it("refuses keys that are not RSA public keys of 2048 bits or more", async () => {
    const jwt = await token();
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey;
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    const secret = new Uint8Array(32);
    for (const key of [small, ec, privateKey, secret]) {
      expect(await rejection(verifyRs256Jwt(jwt, async () => key, options))).toBeInstanceOf(
        errors.JOSENotSupported,
      );
    }
  });
});
