import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { control, exchangeCode, postForm, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let google: Emulator;
let tokenUrl: string;
let clientId: string;
let clientSecret: string;

beforeAll(async () => {
  google = await withEmulator();
  tokenUrl = `${google.url}/token`;
  clientId = google.defaultClient.clientId;
  clientSecret = google.defaultClient.clientSecret as string;
});
afterAll(() => google.close());

describe("authorization_code grant", () => {
  it("exchanges an SDK code: tokens, granted scope and an ID token with Google's claims", async () => {
    const signIn = await sdkSignIn(google, { email: "ada@example.com", scopes: [APPDATA] });
    const { status, body, headers } = await exchangeCode(google, signIn.serverAuthCode);
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toContain("no-store");
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
    expect(body.access_token).toMatch(/^ya29\./);
    expect(body.refresh_token).toMatch(/^1\/\//);
    expect(body.scope.split(" ").sort()).toEqual(
      [
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        APPDATA,
      ].sort(),
    );
    const claims = decodeJwt(body.id_token);
    expect(claims).toMatchObject({
      iss: "https://accounts.google.com",
      aud: clientId,
      azp: clientId,
      sub: signIn.sub,
      email: "ada@example.com",
      email_verified: true,
      name: "Ada Tester",
      given_name: "Ada",
      family_name: "Tester",
      locale: "en",
    });
    expect(claims.picture).toEqual(expect.any(String));
    expect(claims.at_hash).toEqual(expect.any(String));
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it("accepts client authentication by HTTP Basic", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "basic@example.com" });
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString("base64");
    const { status, body } = await postForm(
      tokenUrl,
      { grant_type: "authorization_code", code: serverAuthCode, redirect_uri: "" },
      { authorization: `Basic ${basic}` },
    );
    expect(status).toBe(200);
    expect(body.access_token).toMatch(/^ya29\./);
  });

  it("accepts redirect_uri 'postmessage' and a missing redirect_uri for SDK codes, and ignores scope", async () => {
    const first = await sdkSignIn(google, { email: "pm@example.com" });
    expect(
      (
        await exchangeCode(google, first.serverAuthCode, {
          redirect_uri: "postmessage",
          scope: "x",
        })
      ).status,
    ).toBe(200);
    const second = await sdkSignIn(google, { email: "pm@example.com" });
    const { status } = await postForm(tokenUrl, {
      grant_type: "authorization_code",
      code: second.serverAuthCode,
      client_id: clientId,
      client_secret: clientSecret,
    });
    expect(status).toBe(200);
  });

  it("gives a refresh token only on first consent, or again with prompt=consent", async () => {
    const first = await exchangeCode(
      google,
      (await sdkSignIn(google, { email: "once@example.com" })).serverAuthCode,
    );
    expect(first.body.refresh_token).toBeDefined();
    const repeat = await exchangeCode(
      google,
      (await sdkSignIn(google, { email: "once@example.com" })).serverAuthCode,
    );
    expect(repeat.status).toBe(200);
    expect(repeat.body.refresh_token).toBeUndefined();
    expect(repeat.body.id_token).toBeDefined();
    const forced = await exchangeCode(
      google,
      (await sdkSignIn(google, { email: "once@example.com", prompt: "consent" })).serverAuthCode,
    );
    expect(forced.body.refresh_token).toBeDefined();
  });

  it("shows a partial grant in scope", async () => {
    const signIn = await sdkSignIn(google, {
      email: "partial@example.com",
      scopes: [APPDATA, "https://www.googleapis.com/auth/photoslibrary.appendonly"],
      grantedScopes: [APPDATA],
    });
    const { body } = await exchangeCode(google, signIn.serverAuthCode);
    expect(body.scope.split(" ")).toContain(APPDATA);
    expect(body.scope).not.toContain("photoslibrary");
  });

  it("rejects a reused code with 400 invalid_grant", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "reuse@example.com" });
    expect((await exchangeCode(google, serverAuthCode)).status).toBe(200);
    const again = await exchangeCode(google, serverAuthCode);
    expect(again).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "Bad Request" },
    });
  });

  it("redeems a code once when two exchanges race", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "race@example.com" });
    const results = await Promise.all([
      exchangeCode(google, serverAuthCode),
      exchangeCode(google, serverAuthCode),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 400]);
  });

  it("rejects a malformed code with 400 invalid_grant 'Malformed auth code.'", async () => {
    const { status, body } = await exchangeCode(google, "4%2F0garbage");
    expect(status).toBe(400);
    expect(body).toEqual({ error: "invalid_grant", error_description: "Malformed auth code." });
  });

  it("rejects an expired code with 400 invalid_grant", async () => {
    await control(google, "PUT", "/emulator/settings", { codeTtlSeconds: 1 });
    try {
      const { serverAuthCode } = await sdkSignIn(google, { email: "slow@example.com" });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await exchangeCode(google, serverAuthCode)).toMatchObject({
        status: 400,
        body: { error: "invalid_grant", error_description: "Bad Request" },
      });
    } finally {
      await control(google, "PUT", "/emulator/settings", { codeTtlSeconds: 600 });
    }
  });

  it("rejects a mismatched redirect_uri with 400 redirect_uri_mismatch", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "redirect@example.com" });
    const { status, body } = await exchangeCode(google, serverAuthCode, {
      redirect_uri: "https://evil.example/cb",
    });
    expect(status).toBe(400);
    expect(body).toEqual({ error: "redirect_uri_mismatch", error_description: "Bad Request" });
  });

  it("rejects a wrong secret with 401 invalid_client 'Unauthorized'", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "secret@example.com" });
    const { status, body } = await exchangeCode(google, serverAuthCode, {
      client_secret: "GOCSPX-wrong",
    });
    expect(status).toBe(401);
    expect(body).toEqual({ error: "invalid_client", error_description: "Unauthorized" });
  });

  it("rejects an unknown client with 401 invalid_client", async () => {
    const { status, body } = await exchangeCode(google, "4/0xyz", {
      client_id: "1-unknown.apps.googleusercontent.com",
    });
    expect(status).toBe(401);
    expect(body).toEqual({
      error: "invalid_client",
      error_description: "The OAuth client was not found.",
    });
  });

  it("rejects missing parameters with 400 invalid_request", async () => {
    const noCode = await postForm(tokenUrl, {
      grant_type: "authorization_code",
      client_id: clientId,
      client_secret: clientSecret,
    });
    expect(noCode).toMatchObject({
      status: 400,
      body: { error: "invalid_request", error_description: "Missing required parameter: code" },
    });
    const noClient = await postForm(tokenUrl, { grant_type: "authorization_code", code: "4/0x" });
    expect(noClient).toMatchObject({
      status: 400,
      body: {
        error: "invalid_request",
        error_description: "Could not determine client ID from request.",
      },
    });
    const noSecret = await postForm(tokenUrl, {
      grant_type: "authorization_code",
      code: "4/0x",
      client_id: clientId,
    });
    expect(noSecret).toMatchObject({
      status: 400,
      body: { error: "invalid_request", error_description: "client_secret is missing." },
    });
  });

  it("rejects an unknown or missing grant type with 400 unsupported_grant_type", async () => {
    for (const grantType of ["password", ""]) {
      const { status, body } = await postForm(tokenUrl, {
        grant_type: grantType,
        client_id: clientId,
      });
      expect(status).toBe(400);
      expect(body).toEqual({
        error: "unsupported_grant_type",
        error_description: `Invalid grant_type: ${grantType}`,
      });
    }
  });
});

describe("refresh_token grant", () => {
  async function refreshTokenFor(email: string): Promise<string> {
    const { body } = await exchangeCode(
      google,
      (await sdkSignIn(google, { email, scopes: [APPDATA] })).serverAuthCode,
    );
    return body.refresh_token;
  }
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    postForm(tokenUrl, {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: clientId,
      client_secret: clientSecret,
      ...extra,
    });

  it("returns a new access token, the scope and an ID token, and no new refresh token", async () => {
    const { status, body } = await refresh(await refreshTokenFor("refresh@example.com"));
    expect(status).toBe(200);
    expect(body.access_token).toMatch(/^ya29\./);
    expect(body.expires_in).toBe(3599);
    expect(body.scope).toContain(APPDATA);
    expect(body.refresh_token).toBeUndefined();
    expect(decodeJwt(body.id_token).aud).toBe(clientId);
  });

  it("narrows scopes on request and refuses to widen them", async () => {
    const token = await refreshTokenFor("narrow@example.com");
    expect((await refresh(token, { scope: APPDATA })).body.scope).toBe(APPDATA);
    const wider = await refresh(token, { scope: "https://www.googleapis.com/auth/drive" });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe("invalid_scope");
  });

  it("answers a dead refresh token with 400 invalid_grant 'Token has been expired or revoked.'", async () => {
    const token = await refreshTokenFor("dead@example.com");
    const sub = (await control(google, "GET", "/emulator/users")).body.users.find(
      (user: { email: string }) => user.email === "dead@example.com",
    ).sub;
    await control(google, "POST", `/emulator/users/${sub}/revoke`, {});
    const { status, body } = await refresh(token);
    expect(status).toBe(400);
    expect(body).toEqual({
      error: "invalid_grant",
      error_description: "Token has been expired or revoked.",
    });
    expect(await refresh("1//0unknown")).toMatchObject({
      status: 400,
      body: { error: "invalid_grant" },
    });
  });

  it("rejects a missing refresh_token with 400 invalid_request", async () => {
    const { status, body } = await postForm(tokenUrl, {
      grant_type: "refresh_token",
      client_id: clientId,
      client_secret: clientSecret,
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: "invalid_request",
      error_description: "Missing required parameter: refresh_token",
    });
  });

  it("keeps at most refreshTokenLimit live refresh tokens: the next one silently kills the oldest", async () => {
    await control(google, "PUT", "/emulator/settings", { refreshTokenLimit: 3 });
    try {
      const tokens = [];
      for (let i = 0; i < 4; i++) {
        const signIn = await sdkSignIn(google, { email: "limit@example.com", prompt: "consent" });
        tokens.push((await exchangeCode(google, signIn.serverAuthCode)).body.refresh_token);
      }
      expect((await refresh(tokens[0])).body.error).toBe("invalid_grant");
      for (const live of tokens.slice(1)) expect((await refresh(live)).status).toBe(200);
    } finally {
      await control(google, "PUT", "/emulator/settings", { refreshTokenLimit: 100 });
    }
  });

  it("enforces the default limit of 100 per (user, client)", async () => {
    const email = "hundred@example.com";
    const tokens: string[] = [];
    for (let i = 0; i < 101; i++) {
      const signIn = await sdkSignIn(google, { email, prompt: "consent" });
      tokens.push((await exchangeCode(google, signIn.serverAuthCode)).body.refresh_token);
    }
    expect((await refresh(tokens[0] as string)).status).toBe(400);
    expect((await refresh(tokens[1] as string)).status).toBe(200);
    expect((await refresh(tokens[100] as string)).status).toBe(200);
  });
});

describe("malformed requests", () => {
  it("answers a non-form body, bad JSON and a duplicated parameter with 400 invalid_request, never 5xx", async () => {
    const text = await fetch(tokenUrl, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hello",
    });
    expect(text.status).toBe(400);
    const badJson = await fetch(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error).toBe("invalid_request");
    const duplicated = await fetch(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=refresh_token&grant_type=authorization_code",
    });
    expect(duplicated.status).toBe(400);
    expect(await duplicated.json()).toEqual({
      error: "invalid_request",
      error_description: "Parameter grant_type is duplicated.",
    });
  });

  it("serves GET /token as 404", async () => {
    expect((await fetch(tokenUrl)).status).toBe(404);
  });
});
