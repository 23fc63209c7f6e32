import { createHmac, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { decodeJwt, SignJWT } from "jose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startService } from "../../src/server/service.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "./helpers.js";

let steward: TestService;

beforeAll(async () => {
  steward = await startTestService();
}, 120_000);
afterAll(() => steward?.close());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const me = (token: string, init: RequestInit = {}) =>
  fetch(`${steward.url}/v1/me${init.method === "DELETE" ? "/connection" : ""}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });

async function signedInUser(email: string) {
  const signIn = await sdkSignIn(steward.google, {
    email,
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  expect((await postCode(steward.url, { code: signIn.serverAuthCode })).status).toBe(200);
  return signIn;
}

describe("GET /v1/me", () => {
  it("refuses forged, expired and misaddressed ID tokens with 401 id_token_invalid", async () => {
    const { idToken } = await signedInUser("me@example.com");
    const [header, payload, signature] = idToken.split(".") as [string, string, string];
    const claims = decodeJwt(idToken);
    const jwks = await (await fetch(`${steward.google.url}/oauth2/v3/certs`)).json();
    const hsHeader = b64({ alg: "HS256", kid: jwks.keys[0].kid });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const selfSigned = (extra: Record<string, unknown>, kid = "unknown-kid") =>
      new SignJWT({ ...claims, ...extra })
        .setProtectedHeader({ alg: "RS256", kid })
        .sign(privateKey);
    const now = Math.floor(Date.now() / 1000);
    const forged = {
      "alg none": `${b64({ alg: "none" })}.${payload}.`,
      "HS256 with the public key": `${hsHeader}.${payload}.${createHmac("sha256", JSON.stringify(jwks.keys[0])).update(`${hsHeader}.${payload}`).digest("base64url")}`,
      "a tampered payload": `${header}.${b64({ ...claims, sub: "1" })}.${signature}`,
      "an unknown kid": await selfSigned({}),
      "an expired token (our key)": await selfSigned(
        { iat: now - 7200, exp: now - 3600 },
        jwks.keys[0].kid,
      ),
      garbage: "not-a-jwt",
    };
    for (const [name, token] of Object.entries(forged)) {
      const response = await me(token);
      expect(response.status, name).toBe(401);
      expect((await response.json()).error.code, name).toBe("id_token_invalid");
    }
    const anonymous = await fetch(`${steward.url}/v1/me`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe("unauthenticated");
  });

  it("refuses a valid token for another audience, and answers 404 for a user never signed in", async () => {
    const other = await control(steward.google, "POST", "/emulator/clients", { type: "web" });
    const foreign = await sdkSignIn(steward.google, {
      email: "x@example.com",
      clientId: other.body.clientId,
    });
    expect((await me(foreign.idToken)).status).toBe(401);
    const stranger = await sdkSignIn(steward.google, { email: "stranger@example.com" });
    const response = await me(stranger.idToken);
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("user_not_found");
  });
});

describe("DELETE /v1/me/connection", () => {
  it("needs X-Requested-With, then revokes at Google and forgets the tokens", async () => {
    const { idToken, sub } = await signedInUser("leave@example.com");
    expect((await me(idToken, { method: "DELETE" })).status).toBe(403);
    const response = await me(idToken, {
      method: "DELETE",
      headers: { "x-requested-with": "XMLHttpRequest" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revokedAtGoogle: true });
    const grants = await control(steward.google, "GET", `/emulator/users/${sub}/grants`);
    expect(grants.body.grants[0].revoked).toBe(true);
    const credential = await steward.service.vault.store.getCredential(sub);
    expect(credential).toMatchObject({ status: "revoked", refreshToken: null, accessToken: null });
    const view = await (await me(idToken)).json();
    expect(view.connection).toMatchObject({ status: "revoked", offlineAccess: false });
  });

  it("keeps the tokens when Google cannot be reached, so the revocation can be retried", async () => {
    const { idToken, sub } = await signedInUser("retry@example.com");
    await control(steward.google, "POST", "/emulator/faults", { path: "/revoke", status: 503 });
    const response = await me(idToken, {
      method: "DELETE",
      headers: { "x-requested-with": "XMLHttpRequest" },
    });
    expect(response.status).toBe(502);
    expect((await steward.service.vault.store.getCredential(sub))?.status).toBe("active");
  });
});

describe("operations", () => {
  it("serves /healthz, /readyz, /metrics and the OpenAPI UI", async () => {
    expect(await (await fetch(`${steward.url}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${steward.url}/readyz`)).json()).toEqual({
      ready: true,
      checks: { database: true, keys: true },
    });
    const metrics = await (await fetch(`${steward.url}/metrics`)).text();
    expect(metrics).toMatch(/steward_code_exchanges_total\{outcome="ok"\} \d+/);
    expect(metrics).toContain("steward_code_exchange_duration_seconds_bucket");
    expect((await fetch(`${steward.url}/docs/`)).status).toBe(200);
    const spec = await (await fetch(`${steward.url}/docs/json`)).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(["/v1/auth/google/code", "/v1/me", "/v1/me/connection"]),
    );
  });

  it("refuses a second service on the same data dir, saying the first still runs", async () => {
    const second = startService(
      loadConfig({ STEWARD_DATA_DIR: steward.dataDir, STEWARD_PORT: "0" }),
      {
        emulatorPort: 0,
        logger: pino({ level: "silent" }),
      },
    );
    await expect(second).rejects.toMatchObject({
      code: "data_dir_locked",
      message: expect.stringContaining(`already running on ${steward.dataDir}`),
    });
  });

  it("answers unknown routes with the error envelope and echoes a request id", async () => {
    const response = await fetch(`${steward.url}/nope`, {
      headers: { "x-request-id": "trace-123" },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-request-id")).toBe("trace-123");
    expect(await response.json()).toEqual({
      error: { code: "not_found", message: "There is nothing at this address." },
    });
  });
});

describe("the code endpoint under arbitrary input", () => {
  it("never answers 5xx, never crashes, always with the error envelope", async () => {
    const contentTypes = [
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/octet-stream",
      "multipart/form-data; boundary=x",
      "image/png",
      "",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          contentType: fc.constantFrom(...contentTypes),
          body: fc.oneof(
            fc.string({ maxLength: 600 }),
            fc.json(),
            fc.constant("code=4%2F0abc"),
            fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
          ),
          requestedWith: fc.option(
            fc.string({ maxLength: 20 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
            { nil: undefined },
          ),
          origin: fc.option(fc.constantFrom("https://evil.example", "null", steward.url), {
            nil: undefined,
          }),
        }),
        async (input) => {
          const headers: Record<string, string> = {};
          if (input.contentType) headers["content-type"] = input.contentType;
          if (input.requestedWith !== undefined) headers["x-requested-with"] = input.requestedWith;
          if (input.origin !== undefined) headers.origin = input.origin;
          const response = await fetch(`${steward.url}/v1/auth/google/code`, {
            method: "POST",
            headers,
            body: input.body,
          });
          const text = await response.text();
          expect(response.status, text).toBeLessThan(500);
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(JSON.parse(text).error.code).toMatch(/^[a-z_]+$/);
        },
      ),
      { numRuns: 300 },
    );
    expect((await fetch(`${steward.url}/healthz`)).status).toBe(200);
  });
});
