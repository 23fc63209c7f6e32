import { OAuth2Client } from "google-auth-library";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { control, postForm, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let google: Emulator;

beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());

/** google-auth-library pointed at the emulator only through its `endpoints` option. */
function googleAuthClient(): OAuth2Client {
  return new OAuth2Client({
    clientId: google.defaultClient.clientId,
    clientSecret: google.defaultClient.clientSecret as string,
    endpoints: {
      oauth2TokenUrl: `${google.url}/token`,
      oauth2RevokeUrl: `${google.url}/revoke`,
      oauth2FederatedSignonPemCertsUrl: `${google.url}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${google.url}/oauth2/v3/certs`,
      tokenInfoUrl: `${google.url}/tokeninfo`,
    },
  });
}

describe("google-auth-library OAuth2Client, unchanged", () => {
  it("exchanges an SDK code with redirect_uri '', verifies the ID token, refreshes and revokes", async () => {
    const signIn = await sdkSignIn(google, { email: "gal@example.com", scopes: [APPDATA] });
    const auth = googleAuthClient();
    const { tokens } = await auth.getToken({ code: signIn.serverAuthCode, redirect_uri: "" });
    expect(tokens.refresh_token).toMatch(/^1\/\//);
    expect(tokens.scope).toContain(APPDATA);

    const ticket = await auth.verifyIdToken({
      idToken: tokens.id_token as string,
      audience: google.defaultClient.clientId,
    });
    expect(ticket.getPayload()).toMatchObject({ sub: signIn.sub, email: "gal@example.com" });

    auth.setCredentials({ refresh_token: tokens.refresh_token });
    const refreshed = await auth.getAccessToken();
    expect(refreshed.token).toMatch(/^ya29\./);
    expect(refreshed.token).not.toBe(tokens.access_token);
    const info = await auth.getTokenInfo(refreshed.token as string);
    expect(info.sub).toBe(signIn.sub);
    expect(info.scopes).toContain(APPDATA);

    await auth.revokeToken(tokens.refresh_token as string);
    const after = await postForm(`${google.url}/token`, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: google.defaultClient.clientId,
      client_secret: google.defaultClient.clientSecret as string,
    });
    expect(after.body.error).toBe("invalid_grant");
    await expect(auth.revokeToken(tokens.refresh_token as string)).rejects.toMatchObject({
      status: 400,
    });
  });

  it("verifies the SDK's ID token against the PEM certificates", async () => {
    const { idToken } = await sdkSignIn(google, { email: "pem@example.com" });
    const ticket = await googleAuthClient().verifyIdToken({
      idToken,
      audience: google.defaultClient.clientId,
    });
    expect(ticket.getPayload()?.email).toBe("pem@example.com");
  });
});

describe("openid-client with explicit server metadata", () => {
  function configuration(): oidc.Configuration {
    const config = new oidc.Configuration(
      {
        issuer: "https://accounts.google.com",
        authorization_endpoint: `${google.url}/o/oauth2/v2/auth`,
        token_endpoint: `${google.url}/token`,
        revocation_endpoint: `${google.url}/revoke`,
        jwks_uri: `${google.url}/oauth2/v3/certs`,
      },
      google.defaultClient.clientId,
      google.defaultClient.clientSecret as string,
    );
    oidc.allowInsecureRequests(config);
    return config;
  }

  it("redeems a bare serverAuthCode with a generic grant, refreshes and revokes", async () => {
    const config = configuration();
    const signIn = await sdkSignIn(google, { email: "oidc@example.com", scopes: [APPDATA] });
    const tokens = await oidc.genericGrantRequest(config, "authorization_code", {
      code: signIn.serverAuthCode,
      redirect_uri: "",
    });
    expect(tokens.claims()?.sub).toBe(signIn.sub);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).toMatch(/^ya29\./);
    await oidc.tokenRevocation(config, tokens.refresh_token as string);
    await expect(
      oidc.refreshTokenGrant(config, tokens.refresh_token as string),
    ).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("runs the web code flow through the consent page with PKCE, state and nonce", async () => {
    const config = configuration();
    const redirectUri = google.defaultClient.redirectUris[0] as string;
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: `openid email profile ${APPDATA}`,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      access_type: "offline",
      state,
      nonce,
    });
    const page = await fetch(authorizationUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(APPDATA);

    // Submit the consent form as the browser would: every hidden field, the account, the ticks.
    const form = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      form.append(name as string, decodeEntities(value as string));
    }
    form.append("email", "web@example.com");
    form.append("granted", APPDATA);
    form.append("decision", "allow");
    const approved = await fetch(`${google.url}/o/oauth2/v2/auth/approve`, {
      method: "POST",
      body: form,
      redirect: "manual",
    });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers.get("location") as string);
    expect(callback.origin + callback.pathname).toBe(redirectUri);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.claims()?.email).toBe("web@example.com");
    expect(tokens.refresh_token).toBeDefined();
    expect(tokens.scope).toContain(APPDATA);
  });
});

describe("key rotation", () => {
  it("publishes the next key before it signs, signs with it after a rotation and keeps the old one published", async () => {
    const before = await sdkSignIn(google, { email: "rotate@example.com" });
    const oldKid = decodeProtectedHeader(before.idToken).kid;
    const publishedBefore = Object.keys(
      await (await fetch(`${google.url}/oauth2/v1/certs`)).json(),
    );
    expect(publishedBefore).toContain(oldKid);
    expect(publishedBefore).toHaveLength(2);
    const { status, body } = await control(google, "POST", "/emulator/keys/rotate");
    expect(status).toBe(200);
    expect(body.previousKid).toBe(oldKid);
    // The key that now signs was published before the rotation.
    expect(publishedBefore).toContain(body.kid);
    const after = await sdkSignIn(google, { email: "rotate@example.com" });
    const newKid = decodeProtectedHeader(after.idToken).kid;
    expect(newKid).toBe(body.kid);
    expect(newKid).not.toBe(oldKid);

    const jwks = createRemoteJWKSet(new URL(`${google.url}/oauth2/v3/certs`));
    for (const token of [before.idToken, after.idToken]) {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: "https://accounts.google.com",
        audience: google.defaultClient.clientId,
      });
      expect(payload.sub).toBe(before.sub);
    }
    const pems = await (await fetch(`${google.url}/oauth2/v1/certs`)).json();
    expect(Object.keys(pems).sort()).toEqual([oldKid, newKid, body.nextKid].sort());
    const auth = googleAuthClient();
    for (const idToken of [before.idToken, after.idToken]) {
      await expect(
        auth.verifyIdToken({ idToken, audience: google.defaultClient.clientId }),
      ).resolves.toBeDefined();
    }

    // A second rotation retires the oldest key.
    await control(google, "POST", "/emulator/keys/rotate");
    const jwksAfter = await (await fetch(`${google.url}/oauth2/v3/certs`)).json();
    expect(jwksAfter.keys.map((key: { kid: string }) => key.kid)).not.toContain(oldKid);
    expect(jwksAfter.keys.map((key: { kid: string }) => key.kid)).toContain(newKid);
  });

  it("lets google-auth-library verify a sign-in made between a rotation and its next certificate fetch", async () => {
    const auth = googleAuthClient();
    const audience = google.defaultClient.clientId;
    const before = await sdkSignIn(google, { email: "warm-cache@example.com" });
    // Warms the client's certificate cache, which it keeps for the max-age the emulator sends.
    await auth.verifyIdToken({ idToken: before.idToken, audience });
    await control(google, "POST", "/emulator/keys/rotate");
    await control(google, "DELETE", "/emulator/stats");

    const after = await sdkSignIn(google, { email: "warm-cache@example.com" });
    const ticket = await auth.verifyIdToken({ idToken: after.idToken, audience });
    expect(ticket.getPayload()?.sub).toBe(after.sub);
    await expect(auth.verifyIdToken({ idToken: before.idToken, audience })).resolves.toBeDefined();
    // Verified from the cache: the client did not fetch the certificates again.
    const { requests } = (await control(google, "GET", "/emulator/stats")).body;
    expect(requests["/oauth2/v1/certs"] ?? 0).toBe(0);
  });
});

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
}
