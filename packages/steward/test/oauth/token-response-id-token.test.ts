import { generateKeyPairSync } from "node:crypto";
import { type Emulator, startEmulator } from "@steward/emulator";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GOOGLE_ISSUERS } from "../../src/google/endpoints.js";
import { GoogleKeys } from "../../src/identity/google-keys.js";
import { verifyIdToken } from "../../src/identity/verify-id-token.js";
import { authorizationCodeGrant, refreshTokenGrant } from "../../src/oauth/grants.js";
import { control, sdkSignIn, withEmulator } from "../emulator/helpers.js";
import { failure, oauthClientOf } from "./support.js";

// openid-client checked the ID token of a token response before verifyIdToken saw it, by rules
// stricter than Google's; a failure there came after Google had spent the code, and was
// reported as upstream_unavailable ("try again").

const LEGACY_ISSUER = "accounts.google.com";
let google: Emulator;
let legacy: Emulator;

beforeAll(async () => {
  google = await withEmulator();
  legacy = await startEmulator({ port: 0, issuer: LEGACY_ISSUER });
});
afterAll(async () => {
  await google.close();
  await legacy.close();
});
beforeEach(async () => {
  await control(google, "DELETE", "/emulator/faults");
});

const client = (emulator: Emulator) => oauthClientOf(emulator);

/** A token response Google might send, answered by the emulator's /token for one request. */
async function nextTokenResponse(body: Record<string, unknown>): Promise<void> {
  await control(google, "POST", "/emulator/faults", { path: "/token", status: 200, body });
}

/** Signed by a key of our own: the grant does not judge the ID token, verifyIdToken does. */
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
async function foreignIdToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k" }).sign(privateKey);
}

describe("the ID token of a token response", () => {
  it("redeems a code whose ID token has the legacy issuer accounts.google.com", async () => {
    const { serverAuthCode, sub } = await sdkSignIn(legacy, { email: "legacy@example.com" });
    const tokens = await authorizationCodeGrant(client(legacy), serverAuthCode, "");
    expect(decodeJwt(tokens.idToken as string).iss).toBe(LEGACY_ISSUER);
    // verifyIdToken is the one that decides, and it accepts both of Google's issuers.
    const identity = await verifyIdToken(
      tokens.idToken as string,
      {
        getKey: new GoogleKeys(`${legacy.url}/oauth2/v3/certs`).getKey,
        issuers: GOOGLE_ISSUERS,
        audiences: [legacy.defaultClient.clientId],
        authorizedParties: [legacy.defaultClient.clientId],
      },
      { accessToken: tokens.accessToken },
    );
    expect(identity.sub).toBe(sub);
  });

  it.each([
    ["for an extra audience (an iOS client)", { aud: "1-ios.apps.googleusercontent.com", exp: 60 }],
    ["expired 2 minutes ago (within our 5-minute skew)", { aud: undefined, exp: -120 }],
  ])("leaves an ID token %s to verifyIdToken", async (_case, { aud, exp }) => {
    const now = Math.floor(Date.now() / 1000);
    const idToken = await foreignIdToken({
      iss: GOOGLE_ISSUERS[0],
      aud: aud ?? google.defaultClient.clientId,
      sub: "1",
      iat: now - 3600,
      exp: now + exp,
    });
    await nextTokenResponse({
      access_token: "ya29.a",
      expires_in: 3599,
      token_type: "Bearer",
      id_token: idToken,
    });
    const tokens = await authorizationCodeGrant(client(google), "4/0unused", "");
    expect(tokens.idToken).toBe(idToken);
    expect(tokens.accessToken).toBe("ya29.a");
  });

  it("takes an id_token that is not even a string as none: sign-in refuses it, a refresh needs none", async () => {
    await nextTokenResponse({ access_token: "ya29.a", token_type: "Bearer", id_token: 42 });
    const exchanged = await authorizationCodeGrant(client(google), "4/0unused", "");
    expect(exchanged).toMatchObject({ accessToken: "ya29.a", idToken: undefined });
    await nextTokenResponse({ access_token: "ya29.b", token_type: "Bearer", id_token: 42 });
    expect((await refreshTokenGrant(client(google), "1//0x")).accessToken).toBe("ya29.b");
    // A token response without an access token stays upstream_unavailable.
    await nextTokenResponse({ token_type: "Bearer" });
    expect((await failure(refreshTokenGrant(client(google), "1//0x"))).code).toBe(
      "upstream_unavailable",
    );
  });
});
