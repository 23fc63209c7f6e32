import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { control, exchangeCode, postForm, sdkSignIn, withEmulator } from "./helpers.js";

let google: Emulator;

beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());

async function tokensFor(email: string, scopes: string[] = []) {
  const signIn = await sdkSignIn(google, { email, scopes });
  const { body } = await exchangeCode(google, signIn.serverAuthCode);
  return { ...body, sub: signIn.sub, sdkIdToken: signIn.idToken };
}

describe("/revoke", () => {
  it("revokes by query or by form body; an access token takes its refresh token with it", async () => {
    const byQuery = await tokensFor("rq@example.com");
    const response = await fetch(
      `${google.url}/revoke?token=${encodeURIComponent(byQuery.refresh_token)}`,
      { method: "POST" },
    );
    expect(response.status).toBe(200);

    const byAccess = await tokensFor("ra@example.com");
    expect((await postForm(`${google.url}/revoke`, { token: byAccess.access_token })).status).toBe(
      200,
    );
    const refresh = await postForm(`${google.url}/token`, {
      grant_type: "refresh_token",
      refresh_token: byAccess.refresh_token,
      client_id: google.defaultClient.clientId,
      client_secret: google.defaultClient.clientSecret as string,
    });
    expect(refresh.body).toEqual({
      error: "invalid_grant",
      error_description: "Token has been expired or revoked.",
    });
  });

  it("answers an unknown or dead token with 400 invalid_token, a missing one with 400 invalid_request", async () => {
    const tokens = await tokensFor("rd@example.com");
    await postForm(`${google.url}/revoke`, { token: tokens.refresh_token });
    for (const token of [tokens.refresh_token, "ya29.unknown"]) {
      const { status, body } = await postForm(`${google.url}/revoke`, { token });
      expect(status).toBe(400);
      expect(body.error).toBe("invalid_token");
    }
    const missing = await postForm(`${google.url}/revoke`, {});
    expect(missing).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("serves GET /revoke as 404", async () => {
    expect((await fetch(`${google.url}/revoke?token=x`)).status).toBe(404);
  });
});

describe("/tokeninfo and userinfo", () => {
  it("describes an ID token with Google's string values, and an access token", async () => {
    const tokens = await tokensFor("ti@example.com");
    const idInfo = await (
      await fetch(`${google.url}/tokeninfo?id_token=${tokens.id_token}`)
    ).json();
    expect(idInfo).toMatchObject({
      sub: tokens.sub,
      aud: google.defaultClient.clientId,
      email: "ti@example.com",
      email_verified: "true",
      alg: "RS256",
    });
    expect(idInfo.exp).toMatch(/^\d+$/);
    const accessInfo = await (
      await fetch(`${google.url}/tokeninfo?access_token=${tokens.access_token}`)
    ).json();
    expect(accessInfo).toMatchObject({
      sub: tokens.sub,
      azp: google.defaultClient.clientId,
      access_type: "offline",
    });
    expect(Number(accessInfo.expires_in)).toBeGreaterThan(3500);
  });

  it("answers an invalid token with 400 invalid_token", async () => {
    for (const query of ["id_token=eyJ.bad.token", "access_token=ya29.nope", ""]) {
      const response = await fetch(`${google.url}/tokeninfo?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: "invalid_token",
        error_description: "Invalid Value",
      });
    }
  });

  it("serves the profile at /oauth2/v3/userinfo and /v1/userinfo, 401 without a live token", async () => {
    const tokens = await tokensFor("ui@example.com");
    for (const path of ["/oauth2/v3/userinfo", "/v1/userinfo"]) {
      const response = await fetch(`${google.url}${path}`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(await response.json()).toMatchObject({
        sub: tokens.sub,
        email: "ui@example.com",
        email_verified: true,
        given_name: "Ui",
      });
    }
    const anonymous = await fetch(`${google.url}/oauth2/v3/userinfo`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      error: "invalid_request",
      error_description: "Invalid Credentials",
    });
  });
});

describe("keys and discovery", () => {
  it("serves JWKS and PEM certificates with Cache-Control max-age", async () => {
    const jwks = await fetch(`${google.url}/oauth2/v3/certs`);
    expect(jwks.headers.get("cache-control")).toMatch(/max-age=21600/);
    const { keys } = await jwks.json();
    expect(keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    const pems = await fetch(`${google.url}/oauth2/v1/certs`);
    expect(pems.headers.get("cache-control")).toMatch(/max-age=/);
    const body = await pems.json();
    expect(body[keys[0].kid]).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await control(google, "PUT", "/emulator/settings", { jwksMaxAgeSeconds: 5 });
    expect((await fetch(`${google.url}/oauth2/v3/certs`)).headers.get("cache-control")).toMatch(
      /max-age=5,/,
    );
    await control(google, "PUT", "/emulator/settings", { jwksMaxAgeSeconds: 21600 });
  });

  it("serves OpenID discovery at the address the client used", async () => {
    const doc = await (await fetch(`${google.url}/.well-known/openid-configuration`)).json();
    expect(doc).toMatchObject({
      issuer: "https://accounts.google.com",
      token_endpoint: `${google.url}/token`,
      jwks_uri: `${google.url}/oauth2/v3/certs`,
      revocation_endpoint: `${google.url}/revoke`,
      id_token_signing_alg_values_supported: ["RS256"],
    });
  });
});

describe("consent page", () => {
  const authUrl = (params: Record<string, string>) =>
    `${google.url}/o/oauth2/v2/auth?${new URLSearchParams({ response_type: "code", scope: "openid email", ...params })}`;

  it("refuses an unknown client and an unregistered redirect_uri with Google's error page", async () => {
    const unknown = await fetch(
      authUrl({ client_id: "nope", redirect_uri: "https://x.example/cb" }),
    );
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain("Error 401: invalid_client");
    const mismatch = await fetch(
      authUrl({
        client_id: google.defaultClient.clientId,
        redirect_uri: "https://evil.example/cb",
      }),
    );
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain("redirect_uri_mismatch");
  });

  it("posts a popup-mode code to the opener's origin, redeemable with redirect_uri postmessage", async () => {
    const origin = google.url;
    const approved = await fetch(`${google.url}/o/oauth2/v2/auth/approve`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: google.defaultClient.clientId,
        redirect_uri: "postmessage",
        origin,
        response_type: "code",
        scope: "openid email https://www.googleapis.com/auth/drive.appdata",
        access_type: "offline",
        state: "s1",
        email: "popup@example.com",
        decision: "allow",
      }),
    });
    const html = await approved.text();
    expect(html).toContain(`postMessage(`);
    expect(html).toContain(JSON.stringify(origin));
    const message = JSON.parse(/postMessage\((\{.*?\}), "/.exec(html)?.[1] as string);
    expect(message.state).toBe("s1");
    // The user left drive.appdata unticked (no "granted" field): a partial grant.
    expect(message.scope).not.toContain("drive.appdata");
    const { status, body } = await exchangeCode(google, message.code, {
      redirect_uri: "postmessage",
    });
    expect(status).toBe(200);
    expect(body.refresh_token).toBeDefined();
  });

  it("refuses a popup from an origin the client does not list", async () => {
    const page = await fetch(
      authUrl({
        client_id: google.defaultClient.clientId,
        redirect_uri: "postmessage",
        origin: "https://evil.example",
      }),
    );
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("origin_mismatch");
  });
});

describe("control API", () => {
  it("registers clients and users, lists grants, and the user can revoke", async () => {
    const ios = await control(google, "POST", "/emulator/clients", { type: "installed" });
    expect(ios.status).toBe(201);
    expect(ios.body.clientSecret).toBeNull();
    const user = await control(google, "POST", "/emulator/users", {
      email: "ctl@example.com",
      hd: "example.com",
    });
    expect(user.body.sub).toMatch(/^\d{21}$/);

    // An iOS sign-in whose code is for the server client: aud = server, azp = the iOS app.
    const signIn = await control(google, "POST", "/emulator/sign-in", {
      sub: user.body.sub,
      clientId: ios.body.clientId,
      serverClientId: google.defaultClient.clientId,
      scopes: ["https://www.googleapis.com/auth/drive.appdata"],
    });
    const tokens = await exchangeCode(google, signIn.body.serverAuthCode);
    const claims = JSON.parse(
      Buffer.from(tokens.body.id_token.split(".")[1], "base64url").toString(),
    );
    expect(claims).toMatchObject({
      aud: google.defaultClient.clientId,
      azp: ios.body.clientId,
      hd: "example.com",
    });

    const grants = await control(google, "GET", `/emulator/users/${user.body.sub}/grants`);
    expect(grants.body.grants).toHaveLength(1);
    expect(grants.body.grants[0].refreshTokens[0]).toMatchObject({
      token: tokens.body.refresh_token,
      revoked: false,
    });
    expect(
      (await control(google, "POST", `/emulator/users/${user.body.sub}/revoke`, {})).body.revoked,
    ).toBe(1);
    const after = await control(google, "GET", `/emulator/users/${user.body.sub}/grants`);
    expect(after.body.grants[0]).toMatchObject({ revoked: true });
    expect(after.body.grants[0].refreshTokens[0].revoked).toBe(true);
  });

  it("counts requests and grants per type and per sub", async () => {
    await control(google, "DELETE", "/emulator/stats");
    const tokens = await tokensFor("stats@example.com");
    await postForm(`${google.url}/token`, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: google.defaultClient.clientId,
      client_secret: google.defaultClient.clientSecret as string,
    });
    const { body } = await control(google, "GET", "/emulator/stats");
    expect(body.requests["/token"]).toBe(2);
    expect(body.grants).toEqual({ authorization_code: 1, refresh_token: 1 });
    expect(body.grantsBySub[tokens.sub]).toEqual({ authorization_code: 1, refresh_token: 1 });
  });

  it("injects faults: a status, latency, a dropped connection, a number of times", async () => {
    await control(google, "POST", "/emulator/faults", {
      path: "/oauth2/v3/certs",
      status: 503,
      times: 2,
    });
    expect((await fetch(`${google.url}/oauth2/v3/certs`)).status).toBe(503);
    expect((await fetch(`${google.url}/oauth2/v3/certs`)).status).toBe(503);
    expect((await fetch(`${google.url}/oauth2/v3/certs`)).status).toBe(200);

    await control(google, "POST", "/emulator/faults", { path: "/oauth2/v3/certs", reset: true });
    await expect(fetch(`${google.url}/oauth2/v3/certs`)).rejects.toThrow();

    await control(google, "POST", "/emulator/faults", { path: "/oauth2/v3/certs", latencyMs: 300 });
    const started = Date.now();
    expect((await fetch(`${google.url}/oauth2/v3/certs`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    await control(google, "POST", "/emulator/faults", {
      path: "/token",
      status: 500,
      body: { error: "internal_failure" },
      times: 5,
    });
    expect((await control(google, "DELETE", "/emulator/faults")).status).toBe(200);
    expect((await postForm(`${google.url}/token`, {})).status).toBe(400);
  });

  it("answers bad control input with a 400 in Google's API error shape", async () => {
    const cases: Array<[string, string, unknown]> = [
      ["POST", "/emulator/clients", { type: "desktop" }],
      ["POST", "/emulator/users", { email: "not-an-email" }],
      ["POST", "/emulator/sign-in", { email: "a@example.com" }],
      ["PUT", "/emulator/settings", { accessTokenTtlSeconds: -1 }],
      ["POST", "/emulator/faults", { path: "no-slash" }],
    ];
    for (const [method, path, body] of cases) {
      const response = await control(google, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(response.body.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    }
    const unknownClient = await control(google, "POST", "/emulator/sign-in", {
      email: "a@example.com",
      clientId: "nope",
    });
    expect(unknownClient.status).toBe(404);
  });
});
