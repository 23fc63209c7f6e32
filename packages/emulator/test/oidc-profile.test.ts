import { decodeJwt } from "jose";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { exchangeCode, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let google: Emulator;

beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());

/** openid-client, unchanged: discovery by URL, and every ID token's signature checked too. */
function discover(server: string): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(server),
    google.defaultClient.clientId,
    google.defaultClient.clientSecret as string,
    undefined,
    { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] },
  );
}

/** The browser's part of the code flow: open the consent page, approve as `email`. */
async function approve(authorizationUrl: URL, email: string): Promise<URL> {
  const html = await (await fetch(authorizationUrl)).text();
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    form.append(
      name as string,
      (value as string).replace(/&#(\d+);/g, (_match, code: string) =>
        String.fromCharCode(Number(code)),
      ),
    );
  }
  form.append("email", email);
  form.append("granted", APPDATA);
  form.append("decision", "allow");
  const approved = await fetch(`${google.url}/o/oauth2/v2/auth/approve`, {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  expect(approved.status).toBe(302);
  return new URL(approved.headers.get("location") as string);
}

describe("the emulator's OIDC profile (issuer at its own URL)", () => {
  it("lets openid-client discover it by URL, run the code flow with PKCE and nonce, and refresh", async () => {
    const issuer = `${google.url}/oidc`;
    const config = await discover(issuer);
    expect(config.serverMetadata().issuer).toBe(issuer);

    const redirectUri = google.defaultClient.redirectUris[0] as string;
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: `openid email profile ${APPDATA}`,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      access_type: "offline",
      nonce,
    });
    const callback = await approve(authorizationUrl, "oidc-profile@example.com");
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
    });
    expect(tokens.claims()).toMatchObject({
      iss: issuer,
      aud: google.defaultClient.clientId,
      email: "oidc-profile@example.com",
    });
    expect(tokens.scope).toContain(APPDATA);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).toMatch(/^ya29\./);
    expect(refreshed.claims()).toMatchObject({ iss: issuer, sub: tokens.claims()?.sub });
  });

  it("leaves the default profile on Google's issuer, which openid-client's discovery refuses", async () => {
    await expect(discover(google.url)).rejects.toThrow(/issuer/i);
    const metadata = await fetch(`${google.url}/.well-known/openid-configuration`).then((r) =>
      r.json(),
    );
    expect(metadata).toMatchObject({
      issuer: "https://accounts.google.com",
      token_endpoint: `${google.url}/token`,
    });
    const { serverAuthCode } = await sdkSignIn(google, { email: "google-iss@example.com" });
    const { body } = await exchangeCode(google, serverAuthCode);
    expect(decodeJwt(body.id_token).iss).toBe("https://accounts.google.com");
  });
});
