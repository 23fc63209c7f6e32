import { createHmac, generateKeyPairSync } from "node:crypto";
import type { Emulator } from "@steward/emulator";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { StewardError } from "../../src/errors.js";
import { GOOGLE_ISSUERS } from "../../src/google/endpoints.js";
import { GoogleKeys, maxAgeMs } from "../../src/identity/google-keys.js";
import { type IdTokenRules, verifyIdToken } from "../../src/identity/verify-id-token.js";
import { control, exchangeCode, sdkSignIn, withEmulator } from "../emulator/helpers.js";

let google: Emulator;
let clientId: string;

beforeAll(async () => {
  google = await withEmulator();
  clientId = google.defaultClient.clientId;
});
afterAll(() => google.close());
beforeEach(async () => {
  await control(google, "DELETE", "/emulator/faults");
});

function rules(
  overrides: Partial<IdTokenRules> = {},
  keys = new GoogleKeys(`${google.url}/oauth2/v3/certs`),
): IdTokenRules {
  return {
    getKey: keys.getKey,
    issuers: GOOGLE_ISSUERS,
    audiences: [clientId],
    authorizedParties: [clientId],
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<StewardError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StewardError);
  return error as StewardError;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("verifyIdToken", () => {
  it("accepts a Google-shaped token and returns the profile keyed by sub", async () => {
    const { idToken, sub } = await sdkSignIn(google, { email: "grace@example.com" });
    const identity = await verifyIdToken(idToken, rules());
    expect(identity).toMatchObject({
      sub,
      email: "grace@example.com",
      emailVerified: true,
      name: "Grace Tester",
      givenName: "Grace",
      familyName: "Tester",
      locale: "en",
      audience: clientId,
      authorizedParty: clientId,
    });
  });

  it("checks at_hash against the access token it came with", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "hash@example.com" });
    const { body } = await exchangeCode(google, serverAuthCode);
    await expect(
      verifyIdToken(body.id_token, rules(), { accessToken: body.access_token }),
    ).resolves.toBeDefined();
    const error = await rejection(
      verifyIdToken(body.id_token, rules(), { accessToken: "ya29.other" }),
    );
    expect(error).toMatchObject({
      code: "id_token_invalid",
      status: 401,
      detail: "at_hash does not match",
    });
  });

  it.each([
    ["expired", { now: () => Date.now() + 2 * 3600_000 }, /ERR_JWT_EXPIRED/],
    ["not yet valid", { now: () => Date.now() - 3600_000 }, /iat is in the future/],
    [
      "for another audience",
      { audiences: ["1-other.apps.googleusercontent.com"] },
      /ERR_JWT_CLAIM_VALIDATION_FAILED/,
    ],
    [
      "from another issuer",
      { issuers: ["https://issuer.example"] },
      /ERR_JWT_CLAIM_VALIDATION_FAILED/,
    ],
    [
      "presented by an unknown app (azp)",
      { authorizedParties: ["1-x.apps.googleusercontent.com"] },
      /azp/,
    ],
  ])("refuses a token %s", async (_case, overrides, detail) => {
    const { idToken } = await sdkSignIn(google, { email: "rules@example.com" });
    const error = await rejection(verifyIdToken(idToken, rules(overrides)));
    expect(error.code).toBe("id_token_invalid");
    expect(error.detail).toMatch(detail);
    expect(error.message).not.toContain(idToken.slice(0, 20));
  });

  it("tolerates five minutes of clock skew", async () => {
    const { idToken } = await sdkSignIn(google, { email: "skew@example.com" });
    const exp = decodeJwt(idToken).exp as number;
    await expect(
      verifyIdToken(idToken, rules({ now: () => (exp + 290) * 1000 })),
    ).resolves.toBeDefined();
    await expect(
      verifyIdToken(idToken, rules({ now: () => (exp + 310) * 1000 })),
    ).rejects.toMatchObject({
      code: "id_token_invalid",
    });
  });

  it("refuses alg none, HS256 signed with the public key, a tampered payload and an unknown kid", async () => {
    const { idToken } = await sdkSignIn(google, { email: "forge@example.com" });
    const [header, payload, signature] = idToken.split(".") as [string, string, string];
    const claims = decodeJwt(idToken);

    const none = `${b64({ alg: "none", typ: "JWT" })}.${payload}.`;
    const jwks = await (await fetch(`${google.url}/oauth2/v3/certs`)).json();
    const hsHeader = b64({ alg: "HS256", typ: "JWT", kid: jwks.keys[0].kid });
    const publicJwkAsSecret = JSON.stringify(jwks.keys[0]);
    const hs256 = `${hsHeader}.${payload}.${createHmac("sha256", publicJwkAsSecret).update(`${hsHeader}.${payload}`).digest("base64url")}`;
    const tampered = `${header}.${b64({ ...claims, sub: "999999999999999999999" })}.${signature}`;
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: "not-a-google-kid" })
      .sign(privateKey);

    for (const forged of [none, hs256, tampered, unknownKid, "not.a.jwt", ""]) {
      const error = await rejection(verifyIdToken(forged, rules()));
      expect(error.code, forged.slice(0, 30)).toBe("id_token_invalid");
    }
  });
});

describe("Google's keys", () => {
  it("reads max-age from Cache-Control", () => {
    expect(maxAgeMs("public, max-age=21600, must-revalidate")).toBe(21_600_000);
    expect(maxAgeMs("no-store")).toBeUndefined();
    expect(maxAgeMs(null)).toBeUndefined();
  });

  it("caches the key set as long as Cache-Control says, then fetches it again", async () => {
    await control(google, "PUT", "/emulator/settings", { jwksMaxAgeSeconds: 60 });
    let clock = Date.now();
    const keys = new GoogleKeys(`${google.url}/oauth2/v3/certs`, { now: () => clock });
    const { idToken } = await sdkSignIn(google, { email: "cache@example.com" });
    await control(google, "DELETE", "/emulator/stats");
    const verify = () => verifyIdToken(idToken, rules({}, keys));
    await verify();
    await verify();
    expect(
      (await control(google, "GET", "/emulator/stats")).body.requests["/oauth2/v3/certs"],
    ).toBe(1);
    clock += 61_000;
    await verify();
    expect(
      (await control(google, "GET", "/emulator/stats")).body.requests["/oauth2/v3/certs"],
    ).toBe(2);
    await control(google, "PUT", "/emulator/settings", { jwksMaxAgeSeconds: 21600 });
  });

  it("verifies a token signed after a rotation from the cached keys, which already held the next key", async () => {
    const keys = new GoogleKeys(`${google.url}/oauth2/v3/certs`, { cooldownMs: 0 });
    await verifyIdToken(
      (await sdkSignIn(google, { email: "rot@example.com" })).idToken,
      rules({}, keys),
    );
    await control(google, "POST", "/emulator/keys/rotate");
    await control(google, "DELETE", "/emulator/stats");
    const rotated = await sdkSignIn(google, { email: "rot@example.com" });
    await expect(verifyIdToken(rotated.idToken, rules({}, keys))).resolves.toMatchObject({
      sub: rotated.sub,
    });
    expect(
      (await control(google, "GET", "/emulator/stats")).body.requests["/oauth2/v3/certs"] ?? 0,
    ).toBe(0);
  });

  it("fetches once more for a kid it has never seen (two rotations since its fetch), then verifies", async () => {
    const keys = new GoogleKeys(`${google.url}/oauth2/v3/certs`, { cooldownMs: 0 });
    await verifyIdToken(
      (await sdkSignIn(google, { email: "rot2@example.com" })).idToken,
      rules({}, keys),
    );
    await control(google, "POST", "/emulator/keys/rotate");
    await control(google, "POST", "/emulator/keys/rotate");
    await control(google, "DELETE", "/emulator/stats");
    const rotated = await sdkSignIn(google, { email: "rot2@example.com" });
    await expect(verifyIdToken(rotated.idToken, rules({}, keys))).resolves.toMatchObject({
      sub: rotated.sub,
    });
    expect(
      (await control(google, "GET", "/emulator/stats")).body.requests["/oauth2/v3/certs"],
    ).toBe(1);
  });

  it("keeps verifying with the cached keys when the re-fetch after max-age fails, trying once per cooldown", async () => {
    await control(google, "PUT", "/emulator/settings", { jwksMaxAgeSeconds: 60 });
    let clock = Date.now();
    const warnings: object[] = [];
    const keys = new GoogleKeys(`${google.url}/oauth2/v3/certs`, {
      now: () => clock,
      cooldownMs: 30_000,
      staleIfErrorMs: 3600_000,
      logger: { warn: (fields) => warnings.push(fields) },
    });
    const { idToken, sub } = await sdkSignIn(google, { email: "stale@example.com" });
    const certsFetches = async () =>
      (await control(google, "GET", "/emulator/stats")).body.requests["/oauth2/v3/certs"] ?? 0;
    await verifyIdToken(idToken, rules({}, keys));
    await control(google, "PUT", "/emulator/settings", { jwksMaxAgeSeconds: 21600 });
    await control(google, "POST", "/emulator/faults", {
      path: "/oauth2/v3/certs",
      status: 503,
      times: 1000,
    });
    await control(google, "DELETE", "/emulator/stats");

    clock += 61_000;
    for (let i = 0; i < 5; i++) {
      await expect(verifyIdToken(idToken, rules({}, keys))).resolves.toMatchObject({ sub });
    }
    expect(await certsFetches()).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain(idToken.split(".")[2]);

    clock += 30_001;
    await expect(verifyIdToken(idToken, rules({}, keys))).resolves.toMatchObject({ sub });
    await expect(verifyIdToken(idToken, rules({}, keys))).resolves.toMatchObject({ sub });
    expect(await certsFetches()).toBe(2);

    // A kid the cached set lacks still fails.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const unknownKid = await new SignJWT(decodeJwt(idToken))
      .setProtectedHeader({ alg: "RS256", kid: "not-a-google-kid" })
      .sign(privateKey);
    await expect(verifyIdToken(unknownKid, rules({}, keys))).rejects.toBeInstanceOf(StewardError);

    // Past the grace the stale keys are no longer used.
    clock += 3600_000;
    await expect(verifyIdToken(idToken, rules({}, keys))).rejects.toMatchObject({
      code: "upstream_unavailable",
    });

    // Once Google answers again, so do we.
    await control(google, "DELETE", "/emulator/faults");
    clock += 30_001;
    await expect(verifyIdToken(idToken, rules({}, keys))).resolves.toMatchObject({ sub });
  });

  it.each([
    ["a 503", { status: 503 }],
    ["a dropped connection", { reset: true }],
    ["a hang past the timeout", { latencyMs: 1500 }],
  ])("answers %s from the key endpoint with upstream_unavailable", async (_case, fault) => {
    await control(google, "POST", "/emulator/faults", { path: "/oauth2/v3/certs", ...fault });
    const keys = new GoogleKeys(`${google.url}/oauth2/v3/certs`, { fetchTimeoutMs: 500 });
    const { idToken } = await sdkSignIn(google, { email: "down@example.com" });
    const error = await rejection(verifyIdToken(idToken, rules({}, keys)));
    expect(error).toMatchObject({ code: "upstream_unavailable", status: 502 });
  });
});
