import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../../src/api-keys/index.js";
import { control, sdkSignIn } from "../../emulator/helpers.js";
import { postCode } from "../helpers.js";
import {
  ADMIN_TOKEN,
  APPDATA,
  type ClientFixture,
  expiredUser,
  refreshGrantsOf,
  revokeUser,
  startForClients,
} from "./support.js";

const EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

let fixture: ClientFixture;
beforeAll(async () => {
  fixture = await startForClients();
}, 120_000);
afterAll(() => fixture?.steward.close());

async function token(
  params: Record<string, string>,
  init: { headers?: Record<string, string>; body?: string } = {},
) {
  const response = await fetch(fixture.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...init.headers },
    body: init.body ?? new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
}

const refresh = (sub: string, extra: Record<string, string> = {}) =>
  token({
    grant_type: "refresh_token",
    refresh_token: sub,
    client_id: "steward",
    client_secret: fixture.key,
    ...extra,
  });

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

async function handouts(sub: string) {
  const events = await fixture.steward.service.vault.store.listAuditEvents({ sub });
  return events.filter((event) => event.type === "token.handed_out");
}

async function signedIn(email: string) {
  const signIn = await sdkSignIn(fixture.steward.google, { email, scopes: [APPDATA] });
  expect((await postCode(fixture.steward.url, { code: signIn.serverAuthCode })).status).toBe(200);
  return signIn;
}

describe("POST /oauth2/token, refresh_token grant", () => {
  it("answers Google's shape with a token Drive accepts, uncached, and audits it under the key", async () => {
    const { sub } = await signedIn("shape@example.com");
    const answer = await refresh(sub);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      access_token: expect.stringMatching(/^ya29\./),
      token_type: "Bearer",
      expires_in: expect.any(Number),
      scope: expect.stringContaining(APPDATA),
    });
    expect(answer.body.expires_in).toBeGreaterThanOrEqual(60);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.headers.get("pragma")).toBe("no-cache");
    const drive = await fetch(`${fixture.steward.google.url}/drive/v3/files?spaces=appDataFolder`, {
      headers: { authorization: `Bearer ${answer.body.access_token}` },
    });
    expect(drive.status).toBe(200);

    const [event, ...more] = await handouts(sub);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      actor: `api_key:${fixture.keyId}`,
      data: { route: "/oauth2/token", grantType: "refresh_token", scopes: expect.any(Array) },
    });
    expect(JSON.stringify(event)).not.toContain(answer.body.access_token);
  });

  it("takes the credentials as HTTP Basic too, and STEWARD_ADMIN_TOKEN as the secret", async () => {
    const { sub } = await signedIn("basic@example.com");
    const viaBasic = await token(
      { grant_type: "refresh_token", refresh_token: sub },
      { headers: { authorization: basic("steward", fixture.key) } },
    );
    expect(viaBasic.status).toBe(200);
    const asAdmin = await refresh(sub, { client_secret: ADMIN_TOKEN });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.access_token).toBe(viaBasic.body.access_token);
    expect((await handouts(sub)).map((event) => event.actor).sort()).toEqual([
      "admin",
      `api_key:${fixture.keyId}`,
    ]);
  });

  it("never hands out a token with less than a minute left: it refreshes once instead", async () => {
    const sub = await expiredUser(fixture.steward, "nearly-expired@example.com");
    const answer = await refresh(sub);
    expect(answer.status).toBe(200);
    expect(answer.body.expires_in).toBeGreaterThan(3000);
    expect(await refreshGrantsOf(fixture.steward, sub)).toBe(1);
    // Served from the cache now.
    expect((await refresh(sub)).body.access_token).toBe(answer.body.access_token);
    expect(await refreshGrantsOf(fixture.steward, sub)).toBe(1);
  });

  it("refuses a token Google issued for less than a minute: 503 with Retry-After, nothing audited", async () => {
    const sub = await expiredUser(fixture.steward, "short-lived@example.com");
    await control(fixture.steward.google, "PUT", "/emulator/settings", {
      accessTokenTtlSeconds: 30,
    });
    try {
      const answer = await refresh(sub);
      expect(answer.status).toBe(503);
      expect(answer.body.error).toBe("temporarily_unavailable");
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await handouts(sub)).toEqual([]);
    } finally {
      await control(fixture.steward.google, "PUT", "/emulator/settings", {
        accessTokenTtlSeconds: 3599,
      });
    }
  });

  it("narrows by scope: a granted scope is fine, another is invalid_scope", async () => {
    const { sub } = await signedIn("scope@example.com");
    expect((await refresh(sub, { scope: APPDATA })).status).toBe(200);
    const refused = await refresh(sub, {
      scope: `${APPDATA} https://www.googleapis.com/auth/photoslibrary`,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_scope");
    expect(refused.body.error_description).toContain("photoslibrary");
  });

  it("answers invalid_grant for an unknown user and a revoked grant", async () => {
    const unknown = await refresh("104000000000000000000");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("invalid_grant");

    const { sub } = await signedIn("revoked@example.com");
    expect((await refresh(sub)).status).toBe(200);
    await revokeUser(fixture.steward, sub);
    const revoked = await refresh(sub);
    expect(revoked.status).toBe(400);
    expect(revoked.body).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
  });

  it("answers 503 temporarily_unavailable with Retry-After when Google cannot be reached", async () => {
    const sub = await expiredUser(fixture.steward, "google-down@example.com");
    await control(fixture.steward.google, "POST", "/emulator/faults", {
      path: "/token",
      status: 503,
      times: 10,
    });
    try {
      const answer = await refresh(sub);
      expect(answer.status).toBe(503);
      expect(answer.body.error).toBe("temporarily_unavailable");
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await handouts(sub)).toEqual([]);
    } finally {
      await control(fixture.steward.google, "DELETE", "/emulator/faults");
    }
  });
});

describe("POST /oauth2/token, client authentication and malformed requests", () => {
  it("refuses bad client credentials with 401 invalid_client, challenging Basic only when Basic was used", async () => {
    const { sub } = await signedIn("clients@example.com");
    const wrongKey = "stw_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const cases: Array<{
      name: string;
      params?: Record<string, string>;
      headers?: Record<string, string>;
    }> = [
      { name: "no credentials", params: { client_id: "steward" } },
      { name: "a wrong key", params: { client_id: "steward", client_secret: wrongKey } },
      { name: "another client", params: { client_id: "other", client_secret: fixture.key } },
      { name: "a wrong Basic key", headers: { authorization: basic("steward", wrongKey) } },
      { name: "a Basic without colon", headers: { authorization: "Basic c3Rld2FyZA==" } },
    ];
    for (const { name, params, headers } of cases) {
      const answer = await token(
        { grant_type: "refresh_token", refresh_token: sub, ...params },
        { headers },
      );
      expect(answer.status, name).toBe(401);
      expect(answer.body.error, name).toBe("invalid_client");
      expect(answer.headers.get("www-authenticate") ?? undefined, name).toBe(
        headers ? 'Basic realm="steward"' : undefined,
      );
      expect(answer.text, name).not.toContain(wrongKey);
      expect(answer.text, name).not.toContain(fixture.key);
    }
    expect(await handouts(sub)).toEqual([]);
  });

  it("refuses a key without tokens:read as unauthorized_client", async () => {
    const { sub } = await signedIn("proxy-key@example.com");
    const { key } = await new ApiKeys(fixture.steward.service.vault.database.db).create("proxy", [
      "proxy",
    ]);
    const answer = await refresh(sub, { client_secret: key });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("unauthorized_client");
  });

  it("answers unsupported_grant_type and invalid_request in OAuth's shape, never the envelope", async () => {
    const { sub } = await signedIn("malformed@example.com");
    const client = { client_id: "steward", client_secret: fixture.key };
    const form = "application/x-www-form-urlencoded";
    const cases: Array<
      [
        string,
        Record<string, string>,
        { body?: string; type?: string; headers?: Record<string, string> },
        string,
      ]
    > = [
      [
        "authorization_code",
        { ...client, grant_type: "authorization_code", code: "x" },
        {},
        "unsupported_grant_type",
      ],
      ["no refresh_token", { ...client, grant_type: "refresh_token" }, {}, "invalid_request"],
      ["no grant_type", { ...client, refresh_token: sub }, {}, "invalid_request"],
      [
        "a JSON body",
        {},
        {
          body: JSON.stringify({ ...client, grant_type: "refresh_token", refresh_token: sub }),
          type: "application/json",
        },
        "invalid_request",
      ],
      [
        "a repeated parameter",
        {},
        {
          body: `${new URLSearchParams({ ...client, grant_type: "refresh_token", refresh_token: sub })}&refresh_token=${sub}`,
          type: form,
        },
        "invalid_request",
      ],
      [
        "credentials twice",
        { ...client, grant_type: "refresh_token", refresh_token: sub },
        { headers: { authorization: basic("steward", fixture.key) } },
        "invalid_request",
      ],
      [
        "plain HTTP relayed by a proxy",
        { ...client, grant_type: "refresh_token", refresh_token: sub },
        { headers: { "x-forwarded-for": "203.0.113.9" } },
        "invalid_request",
      ],
    ];
    for (const [name, params, raw, code] of cases) {
      const answer = await token(params, {
        ...(raw.body ? { body: raw.body } : {}),
        headers: {
          ...(raw.type ? { "content-type": raw.type } : {}),
          ...raw.headers,
        },
      });
      expect(answer.status, name).toBe(400);
      expect(answer.body, name).toEqual({ error: code, error_description: expect.any(String) });
      expect(answer.text, name).not.toContain(fixture.key);
      expect(answer.headers.get("cache-control"), name).toBe("no-store");
    }
    expect(await handouts(sub)).toEqual([]);
  });

  it("keeps the client secret and the tokens out of the logs", async () => {
    const { sub, idToken } = await signedIn("logs@example.com");
    const answer = await refresh(sub);
    await token({
      grant_type: EXCHANGE,
      subject_token: idToken,
      subject_token_type: ID_TOKEN_TYPE,
      client_id: "steward",
      client_secret: fixture.key,
    });
    await refresh(sub, { client_secret: `${fixture.key.slice(0, -1)}x` });
    const logs = fixture.steward.logs();
    expect(logs).toContain("/oauth2/token");
    expect(logs).not.toContain(fixture.key.slice(24));
    expect(logs).not.toContain(answer.body.access_token);
    expect(logs).not.toContain(idToken.split(".")[2]);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = await (await fetch(`${fixture.steward.url}/docs/json`)).json();
    const operation = doc.paths["/oauth2/token"].post;
    expect(Object.keys(operation.requestBody.content)).toEqual([
      "application/x-www-form-urlencoded",
    ]);
    const ok = operation.responses["200"].content["application/json"].schema;
    expect(Object.keys(ok.properties)).toEqual(
      expect.arrayContaining([
        "access_token",
        "expires_in",
        "scope",
        "token_type",
        "issued_token_type",
      ]),
    );
    expect(
      operation.responses["401"].content["application/json"].schema.properties.error,
    ).toBeDefined();
  });
});

describe("POST /oauth2/token, token exchange (RFC 8693) with a Google ID token", () => {
  const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
    token({
      grant_type: EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: ID_TOKEN_TYPE,
      client_id: "steward",
      client_secret: fixture.key,
      ...extra,
    });

  it("answers RFC 8693's shape for the user the ID token names", async () => {
    const { sub, idToken } = await signedIn("exchange@example.com");
    const answer = await exchange(idToken, { requested_token_type: ACCESS_TOKEN_TYPE });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      access_token: expect.stringMatching(/^ya29\./),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: "Bearer",
      expires_in: expect.any(Number),
      scope: expect.stringContaining(APPDATA),
    });
    expect((await refresh(sub)).body.access_token).toBe(answer.body.access_token);
    expect((await handouts(sub)).map((event) => event.data.grantType)).toContain(EXCHANGE);
  });

  it("refuses a forged or expired ID token with invalid_grant and issues nothing", async () => {
    const { sub, idToken } = await signedIn("forged@example.com");
    const claims = decodeJwt(idToken);
    const jwks = await (await fetch(`${fixture.steward.google.url}/oauth2/v3/certs`)).json();
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: jwks.keys[0].kid })
      .sign(privateKey);
    const [header, , signature] = idToken.split(".");
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: "1" })).toString("base64url")}.${signature}`;
    const expired = await expiredIdToken("forged@example.com");
    expect(decodeJwt(expired)).toMatchObject({ sub, exp: expect.any(Number) });
    expect(decodeJwt(expired).exp).toBeLessThan(Date.now() / 1000 - 3000);

    for (const [name, subjectToken] of Object.entries({ forged, tampered, expired })) {
      const answer = await exchange(subjectToken);
      expect(answer.status, name).toBe(400);
      expect(answer.body.error, name).toBe("invalid_grant");
      expect(answer.text, name).not.toContain("ya29.");
    }
    expect(await handouts(sub)).toEqual([]);
    expect(await refreshGrantsOf(fixture.steward, sub)).toBe(0);
  });

  it("refuses other subject token types and delegation as invalid_request", async () => {
    const { idToken } = await signedIn("types@example.com");
    const refusals: Array<Record<string, string>> = [
      { subject_token_type: ACCESS_TOKEN_TYPE },
      { requested_token_type: ID_TOKEN_TYPE },
      { actor_token: idToken },
    ];
    for (const extra of refusals) {
      const answer = await exchange(idToken, extra);
      expect(answer.status, JSON.stringify(Object.keys(extra))).toBe(400);
      expect(answer.body.error).toBe("invalid_request");
    }
  });
});

/**
 * An ID token the emulator signed (a valid signature) that expired an hour ago: the emulator's
 * clock is set two hours back for one sign-in.
 */
async function expiredIdToken(email: string): Promise<string> {
  const state = fixture.steward.google.state as unknown as { now: () => number };
  const realNow = state.now;
  state.now = () => Date.now() - 2 * 3600_000;
  try {
    return (await sdkSignIn(fixture.steward.google, { email })).idToken;
  } finally {
    state.now = realNow;
  }
}
