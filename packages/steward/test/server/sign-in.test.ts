import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { control, exchangeCode, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const PHOTOS = "https://www.googleapis.com/auth/photoslibrary.appendonly";
let steward: TestService;

beforeAll(async () => {
  steward = await startTestService({
    STEWARD_REQUIRED_SCOPES: `${APPDATA} ${PHOTOS}`,
    STEWARD_ALLOWED_ORIGINS: "https://app.example.com",
    STEWARD_TRUST_PROXY: "127.0.0.1",
  });
}, 120_000);
afterAll(() => steward?.close());
beforeEach(async () => {
  await control(steward.google, "DELETE", "/emulator/faults");
});

const db = () => steward.service.vault.database.db;
const signIn = (email: string, extra: Record<string, unknown> = {}) =>
  sdkSignIn(steward.google, { email, scopes: [APPDATA, PHOTOS], ...extra });
const usersNamed = async (email: string) =>
  (await db().selectFrom("users").selectAll().where("email", "=", email).execute()).length;

describe("POST /v1/auth/google/code, end to end", () => {
  it("turns an iOS serverAuthCode into a verified, stored user with a sealed credential", async () => {
    const { serverAuthCode, idToken, sub } = await signIn("ada@example.com");
    const { status, body } = await postCode(steward.url, { code: serverAuthCode });
    expect(status).toBe(200);
    expect(body).toEqual({
      user: {
        sub,
        email: "ada@example.com",
        emailVerified: true,
        name: "Ada Tester",
        picture: expect.any(String),
        locale: "en",
        givenName: "Ada",
        familyName: "Tester",
      },
      grantedScopes: expect.arrayContaining([APPDATA, PHOTOS, "openid"]),
      missingScopes: [],
      offlineAccess: true,
    });

    const row = await db()
      .selectFrom("credentials")
      .selectAll()
      .where("sub", "=", sub)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("active");
    expect(row.refresh_token).toBeInstanceOf(Buffer);
    const grants = await control(steward.google, "GET", `/emulator/users/${sub}/grants`);
    const refreshToken = grants.body.grants[0].refreshTokens[0].token as string;
    expect(row.refresh_token?.includes(Buffer.from(refreshToken))).toBe(false);
    expect((await steward.service.vault.store.getCredential(sub))?.refreshToken).toBe(refreshToken);

    const me = await fetch(`${steward.url}/v1/me`, {
      headers: { authorization: `Bearer ${idToken}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      user: { sub },
      connection: { status: "active", offlineAccess: true },
    });
  });

  it("accepts the web popup flow's code with redirectUri postmessage, from an allowed origin", async () => {
    const origin = steward.url;
    const approved = await fetch(`${steward.google.url}/o/oauth2/v2/auth/approve`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: steward.service.client.clientId,
        redirect_uri: "postmessage",
        origin,
        response_type: "code",
        scope: `openid email profile ${APPDATA} ${PHOTOS}`,
        access_type: "offline",
        email: "web@example.com",
        decision: "allow",
        granted: APPDATA,
      }),
    });
    const message = JSON.parse(
      /postMessage\((\{.*?\}), "/.exec(await approved.text())?.[1] as string,
    );
    const { status, body } = await postCode(
      steward.url,
      `code=${encodeURIComponent(message.code)}&redirectUri=postmessage`,
      {
        contentType: "application/x-www-form-urlencoded",
        headers: { origin },
      },
    );
    expect(status).toBe(200);
    // The user unticked the Photos scope: the app learns which feature is off.
    expect(body.missingScopes).toEqual([PHOTOS]);
    expect(body.offlineAccess).toBe(true);
  });

  it("keeps offline access on a repeat sign-in that brings no refresh token", async () => {
    const first = await signIn("repeat@example.com");
    expect((await postCode(steward.url, { code: first.serverAuthCode })).body.offlineAccess).toBe(
      true,
    );
    const before = await steward.service.vault.store.getCredential(first.sub);
    const again = await signIn("repeat@example.com");
    const { status, body } = await postCode(steward.url, again.serverAuthCode, {
      contentType: "text/plain",
    });
    expect(status).toBe(200);
    expect(body.offlineAccess).toBe(true);
    const after = await steward.service.vault.store.getCredential(first.sub);
    expect(after?.refreshToken).toBe(before?.refreshToken);
  });

  it("does not narrow the grant when a repeat sign-in's code carries fewer scopes", async () => {
    const first = await signIn("narrower@example.com");
    expect((await postCode(steward.url, { code: first.serverAuthCode })).status).toBe(200);
    const again = await sdkSignIn(steward.google, { email: "narrower@example.com", scopes: [] });
    const { status, body } = await postCode(steward.url, { code: again.serverAuthCode });
    expect(status).toBe(200);
    expect(body).toMatchObject({ offlineAccess: true, missingScopes: [] });
    expect(body.grantedScopes).toEqual(expect.arrayContaining([APPDATA, PHOTOS]));
    await expect(
      steward.service.tokens.accessToken(first.sub, { scopes: [APPDATA, PHOTOS] }),
    ).resolves.toMatchObject({ scopes: expect.arrayContaining([APPDATA, PHOTOS]) });
  });

  it("says offlineAccess false when Google sends no refresh token and none is stored", async () => {
    const first = await signIn("lost@example.com");
    // The backend lost the first exchange's result (it redeemed the code itself elsewhere).
    await exchangeCode(steward.google, first.serverAuthCode);
    const again = await signIn("lost@example.com");
    const { status, body } = await postCode(steward.url, Buffer.from(again.serverAuthCode), {
      contentType: "application/octet-stream",
    });
    expect(status).toBe(200);
    expect(body.offlineAccess).toBe(false);
  });

  it("answers a reused code with 400 invalid_grant", async () => {
    const { serverAuthCode } = await signIn("reuse@example.com");
    expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
    const again = await postCode(steward.url, { code: serverAuthCode });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe("invalid_grant");
  });
});

describe("concurrency", () => {
  it("gives one 200 and one invalid_grant when the same code is posted twice at once", async () => {
    const { serverAuthCode } = await signIn("twice@example.com");
    const results = await Promise.all([
      postCode(steward.url, { code: serverAuthCode }),
      postCode(steward.url, { code: serverAuthCode }),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 400]);
    expect(results.find((result) => result.status === 400)?.body.error.code).toBe("invalid_grant");
  });

  it("leaves one user row and one active credential after two sign-ins of one user at once", async () => {
    const [a, b] = await Promise.all([
      signIn("both@example.com", { prompt: "consent" }),
      signIn("both@example.com", { prompt: "consent" }),
    ]);
    const results = await Promise.all([
      postCode(steward.url, { code: a.serverAuthCode }),
      postCode(steward.url, { code: b.serverAuthCode }),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200]);
    expect(await usersNamed("both@example.com")).toBe(1);
    const credentials = await db()
      .selectFrom("credentials")
      .selectAll()
      .where("sub", "=", a.sub)
      .execute();
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.status).toBe("active");
  });
});

describe("requests refused before anything happens", () => {
  async function refused(
    result: Promise<{ status: number; body: any }>,
    status: number,
    code: string,
  ) {
    const { status: got, body } = await result;
    expect(got).toBe(status);
    expect(body.error.code).toBe(code);
    expect(JSON.stringify(body)).not.toMatch(/4\/0[A-Za-z0-9_-]{20}/);
  }

  it("refuses a request without X-Requested-With (403 csrf_header_missing) and stores nothing", async () => {
    const { serverAuthCode } = await signIn("csrf@example.com");
    await refused(
      postCode(steward.url, { code: serverAuthCode }, { headers: { "x-requested-with": "" } }),
      403,
      "csrf_header_missing",
    );
    expect(await usersNamed("csrf@example.com")).toBe(0);
    // The code was never spent: the real app can still use it.
    expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
  });

  it("refuses a foreign Origin (403 origin_not_allowed)", async () => {
    const { serverAuthCode } = await signIn("origin@example.com");
    await refused(
      postCode(
        steward.url,
        { code: serverAuthCode },
        { headers: { origin: "https://evil.example" } },
      ),
      403,
      "origin_not_allowed",
    );
    expect(await usersNamed("origin@example.com")).toBe(0);
  });

  it("refuses plain HTTP from a non-loopback client, and accepts it through a trusted TLS proxy", async () => {
    const { serverAuthCode } = await signIn("proxy@example.com");
    const remote = { "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "http" };
    await refused(
      postCode(steward.url, { code: serverAuthCode }, { headers: remote }),
      403,
      "https_required",
    );
    const viaTls = await postCode(
      steward.url,
      { code: serverAuthCode },
      { headers: { ...remote, "x-forwarded-proto": "https" } },
    );
    expect(viaTls.status).toBe(200);
  });

  it.each([
    ["an empty code", { code: "" }, "application/json", 400, "invalid_request"],
    [
      "an oversized code",
      { code: `4/0${"a".repeat(600)}` },
      "application/json",
      400,
      "invalid_request",
    ],
    ["a non-ASCII code", { code: "4/0héllo✓" }, "application/json", 400, "invalid_request"],
    ["a code that is not a string", { code: 42 }, "application/json", 400, "invalid_request"],
    ["unknown fields", { code: "4/0abc", extra: true }, "application/json", 400, "invalid_request"],
    ["malformed JSON", '{"code": ', "application/json", 400, "invalid_request"],
    ["an empty raw body", "", "text/plain", 400, "invalid_request"],
    ["a wrong content type", "<code>x</code>", "application/xml", 415, "unsupported_media_type"],
    [
      "a multi-megabyte body",
      `code=${"a".repeat(3 * 1024 * 1024)}`,
      "application/x-www-form-urlencoded",
      413,
      "payload_too_large",
    ],
    [
      "an unknown redirectUri",
      { code: "4/0abc", redirectUri: "https://evil.example/cb" },
      "application/json",
      400,
      "invalid_request",
    ],
  ])("refuses %s", async (_case, body, contentType, status, code) => {
    await control(steward.google, "DELETE", "/emulator/stats");
    await refused(postCode(steward.url, body, { contentType }), status, code);
    // Refused before Google was asked.
    expect(
      (await control(steward.google, "GET", "/emulator/stats")).body.requests["/token"],
    ).toBeUndefined();
  });
});

describe("upstream faults", () => {
  it.each([
    ["answers 500", { status: 500, body: { error: "internal_failure" } }],
    ["drops the connection", { reset: true }],
    ["hangs", { latencyMs: 4000 }],
  ])(
    "answers 502 upstream_unavailable and stores nothing when Google %s",
    async (_case, fault) => {
      const email = `fault-${Object.keys(fault)[0]}@example.com`;
      const { serverAuthCode } = await signIn(email);
      await control(steward.google, "POST", "/emulator/faults", { path: "/token", ...fault });
      const { status, body } = await postCode(steward.url, { code: serverAuthCode });
      expect(status).toBe(502);
      expect(body.error.code).toBe("upstream_unavailable");
      expect(await usersNamed(email)).toBe(0);
    },
    30_000,
  );

  it("refuses a forged ID token in Google's answer (401 id_token_invalid) and stores nothing", async () => {
    const { serverAuthCode, idToken } = await signIn("forged@example.com");
    const [header, payload] = idToken.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims, email: "admin@example.com" }),
    ).toString("base64url");
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/token",
      status: 200,
      body: {
        access_token: "ya29.forged",
        expires_in: 3599,
        refresh_token: "1//0forged",
        scope: `openid ${APPDATA}`,
        token_type: "Bearer",
        id_token: `${header}.${forgedPayload}.${idToken.split(".")[2]}`,
      },
    });
    const { status, body } = await postCode(steward.url, { code: serverAuthCode });
    expect(status).toBe(401);
    expect(body.error.code).toBe("id_token_invalid");
    expect(await usersNamed("forged@example.com")).toBe(0);
    expect(await usersNamed("admin@example.com")).toBe(0);
  });
});

describe("logs", () => {
  it("never contain a code, a token or the client secret", async () => {
    const { serverAuthCode, sub, idToken } = await signIn("logs@example.com");
    await postCode(steward.url, { code: serverAuthCode });
    await postCode(steward.url, { code: serverAuthCode }); // a refused reuse is logged too
    await fetch(`${steward.url}/v1/me`, { headers: { authorization: `Bearer ${idToken}` } });
    const credential = await steward.service.vault.store.getCredential(sub);
    const logs = steward.logs();
    expect(logs).toContain("request refused");
    for (const secret of [
      serverAuthCode,
      idToken,
      credential?.refreshToken,
      credential?.accessToken,
      steward.service.client.clientSecret,
    ]) {
      expect(secret).toBeTruthy();
      expect(logs).not.toContain(secret as string);
    }
  });
});
