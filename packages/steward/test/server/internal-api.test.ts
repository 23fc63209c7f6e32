import { request as httpRequest } from "node:http";
import type { FastifyRequest } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiKeyInfo, type ApiKeyScope, ApiKeys } from "../../src/api-keys/index.js";
import { ApiAuth } from "../../src/server/plugins/api-auth.js";
import { openDatabase } from "../../src/store/index.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { waitUntil } from "../events/support/receiver.js";
import { recordRefresh } from "../vault/support/locked-users.js";
import { postCode, sharedEnvironment, startTestService, type TestService } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const PHOTOS = "https://www.googleapis.com/auth/photoslibrary.appendonly";
const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
let steward: TestService;
let keys: { tokens: string; proxy: string; admin: string };

beforeAll(async () => {
  steward = await startTestService({
    STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
    STEWARD_TRUST_PROXY: "127.0.0.1",
  });
  const apiKeys = new ApiKeys(steward.service.vault.database.db);
  keys = {
    tokens: (await apiKeys.create("jobs", ["tokens:read"])).key,
    proxy: (await apiKeys.create("proxy", ["proxy"])).key,
    admin: (await apiKeys.create("ops", ["admin"])).key,
  };
}, 120_000);
afterAll(() => steward?.close());

const sharedDatabaseUrl = async () => (await sharedEnvironment(steward)).DATABASE_URL as string;

async function signedIn(email: string, scopes = [APPDATA, PHOTOS]): Promise<string> {
  const { serverAuthCode, sub } = await sdkSignIn(steward.google, { email, scopes });
  expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
  return sub;
}

const call = (path: string, key: string | undefined, init: RequestInit = {}) =>
  fetch(`${steward.url}${path}`, {
    ...init,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(init.headers as Record<string, string>),
    },
  });

describe("API keys", () => {
  it("refuses a revoked key it had remembered once the verification window ends", async () => {
    const apiKeys = new ApiKeys(steward.service.vault.database.db);
    const { key, info } = await apiKeys.create("soon revoked", ["tokens:read"]);
    let nowMs = Date.now();
    const auth = new ApiAuth(apiKeys, ADMIN_TOKEN, { verifiedForMs: 30_000, now: () => nowMs });
    // A new connection each time: what one connection remembers is tested below.
    const request = (bearer: string) => onConnection({}, bearer);
    expect((await auth.require(request(key), "tokens:read")).id).toBe(`api_key:${info.id}`);
    await apiKeys.revoke(info.id);
    nowMs += 29_999;
    expect((await auth.require(request(key), "tokens:read")).id).toBe(`api_key:${info.id}`);
    nowMs += 1;
    await expect(auth.require(request(key), "tokens:read")).rejects.toMatchObject({
      code: "unauthenticated",
    });
    // The admin token is compared on every request, never remembered.
    expect((await auth.require(request(ADMIN_TOKEN), "admin")).id).toBe("admin");
    await expect(auth.require(request(`${ADMIN_TOKEN}x`), "admin")).rejects.toMatchObject({
      code: "unauthenticated",
    });
  });

  it("lets a connection repeat the key it presented only while the key is trusted", async () => {
    const apiKeys = new ApiKeys(steward.service.vault.database.db);
    const { key, info } = await apiKeys.create("one connection", ["tokens:read"]);
    const other = await apiKeys.create("the same connection, later", ["proxy"]);
    let nowMs = Date.now();
    const auth = new ApiAuth(apiKeys, ADMIN_TOKEN, { verifiedForMs: 30_000, now: () => nowMs });
    const socket = {};
    const caller = async (bearer: string | undefined, scope: ApiKeyScope = "tokens:read") =>
      (await auth.require(onConnection(socket, bearer), scope)).id;
    expect(await caller(key)).toBe(`api_key:${info.id}`);
    // What the connection remembers answers for that key only, and still checks the scope.
    await expect(caller(`${key}x`)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(caller(undefined)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(caller(key, "proxy")).rejects.toMatchObject({ code: "forbidden" });
    expect(await caller(other.key, "proxy")).toBe(`api_key:${other.info.id}`);
    expect(await caller(key)).toBe(`api_key:${info.id}`);

    // Revoked: within the window the connection's key still works, as any remembered key does...
    await apiKeys.revoke(info.id);
    nowMs += 29_999;
    expect(await caller(key)).toBe(`api_key:${info.id}`);
    // ...until the window ends,
    nowMs += 1;
    await expect(caller(key)).rejects.toMatchObject({ code: "unauthenticated" });
    // or at once when the service hears of a revocation.
    expect(await caller(other.key, "proxy")).toBe(`api_key:${other.info.id}`);
    // A connection that takes up a remembered key late in its window gets only what is left.
    const third = await apiKeys.create("taken up late", ["tokens:read"]);
    const firstUse = await auth.require(onConnection({}, third.key), "tokens:read");
    expect(firstUse.id).toBe(`api_key:${third.info.id}`);
    nowMs += 29_999;
    const late = {};
    expect((await auth.require(onConnection(late, third.key), "tokens:read")).id).toBe(
      `api_key:${third.info.id}`,
    );
    await apiKeys.revoke(third.info.id);
    nowMs += 1;
    await expect(
      (async () => auth.require(onConnection(late, third.key), "tokens:read"))(),
    ).rejects.toMatchObject({ code: "unauthenticated" });
    expect(await caller(other.key, "proxy")).toBe(`api_key:${other.info.id}`);
    await apiKeys.revoke(other.info.id);
    auth.forgetVerified();
    await expect(caller(other.key, "proxy")).rejects.toMatchObject({ code: "unauthenticated" });
  });

  it("does not remember a key whose check was under way when a revocation was heard", async () => {
    let answer: (info: ApiKeyInfo) => void = () => undefined;
    let checks = 0;
    const apiKeys = {
      verify: () => {
        checks++;
        return new Promise<ApiKeyInfo>((resolve) => {
          answer = resolve;
        });
      },
    } as unknown as ApiKeys;
    const auth = new ApiAuth(apiKeys, ADMIN_TOKEN);
    const key = "stw_0123456789abcdef_secret";
    const socket = {};
    const inFlight = auth.require(onConnection(socket, key), "tokens:read");
    auth.forgetVerified();
    const info = { id: "0123456789abcdef", scopes: ["tokens:read"] } as unknown as ApiKeyInfo;
    answer(info);
    // The request already under way is answered as the database said...
    expect((await inFlight).id).toBe("api_key:0123456789abcdef");
    // ...but neither the service nor that connection goes on believing it.
    const next = auth.require(onConnection(socket, key), "tokens:read");
    expect(checks).toBe(2);
    answer(info);
    await next;
  });

  it("refuses a key revoked elsewhere at once, though it had remembered it", async () => {
    const sub = await signedIn("revoked-now@example.com");
    const path = `/v1/users/${sub}/access-token`;
    // Another process's view of the keys (as `steward api-keys revoke` has).
    const elsewhere = await openDatabase({ databaseUrl: await sharedDatabaseUrl() });
    try {
      const apiKeys = new ApiKeys(elsewhere.db);
      const { key, info } = await apiKeys.create("leaked", ["tokens:read"]);
      expect((await call(path, key)).status).toBe(200);
      await apiKeys.revoke(info.id);
      const revokedAt = Date.now();
      await waitUntil(async () => (await call(path, key)).status === 401, "the 401");
      // Well within the 30 s a remembered key is otherwise trusted.
      expect(Date.now() - revokedAt).toBeLessThan(5_000);
      expect((await call(path, keys.tokens)).status).toBe(200);
    } finally {
      await elsewhere.close();
    }
  });

  it("stores keys hashed: no key appears in the database", async () => {
    const rows = await steward.service.vault.database.db
      .selectFrom("api_keys")
      .selectAll()
      .execute();
    const dump = JSON.stringify(rows);
    // stw_<16-char id>_<secret>; the secret itself may hold "_".
    for (const key of Object.values(keys)) expect(dump).not.toContain(key.slice(21));
  });

  it("refuses a key sent in clear from off loopback", async () => {
    const response = await call("/v1/users", keys.admin, {
      headers: { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "http" },
    });
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("https_required");
  });
});

describe("GET /v1/users/{sub}/access-token", () => {
  it("answers a fresh token with an ISO 8601 expiry, and the typed errors", async () => {
    const sub = await signedIn("token@example.com", [APPDATA]);
    const response = await call(
      `/v1/users/${sub}/access-token?scope=${encodeURIComponent(APPDATA)}`,
      keys.tokens,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.json();
    expect(body.accessToken).toMatch(/^ya29\./);
    expect(body.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(body.scopes).toContain(APPDATA);

    const notGranted = await call(
      `/v1/users/${sub}/access-token?scope=${encodeURIComponent(PHOTOS)}`,
      keys.tokens,
    );
    expect(notGranted.status).toBe(403);
    expect((await notGranted.json()).error.code).toBe("scope_not_granted");
    const unknown = await call("/v1/users/1234/access-token", keys.tokens);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("user_not_found");

    await control(steward.google, "POST", `/emulator/users/${sub}/revoke`, {});
    steward.service.tokens.forget(sub);
    await recordRefresh(steward.service.vault.store, sub, {
      accessToken: "ya29.stale",
      expiresAt: new Date(Date.now() - 1000),
    });
    const revoked = await call(`/v1/users/${sub}/access-token`, keys.tokens);
    expect(revoked.status).toBe(409);
    expect((await revoked.json()).error.code).toBe("credential_revoked");
  });
});

describe("users", () => {
  it("lists users with cursor paging, shows one, and deletes one after revoking at Google", async () => {
    const subs = [
      await signedIn("list-a@example.com"),
      await signedIn("list-b@example.com"),
      await signedIn("list-c@example.com"),
    ];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response: Response = await call(
        `/v1/users?limit=2${cursor ? `&after=${cursor}` : ""}`,
        keys.admin,
      );
      const page = await response.json();
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((entry: { user: { sub: string } }) => entry.user.sub));
      cursor = page.nextCursor;
    } while (cursor);
    for (const sub of subs) expect(seen).toContain(sub);
    expect(new Set(seen).size).toBe(seen.length);

    const shown = await (await call(`/v1/users/${subs[0]}`, ADMIN_TOKEN)).json();
    expect(shown).toMatchObject({
      user: { sub: subs[0], email: "list-a@example.com" },
      credential: { status: "active", offlineAccess: true },
    });
    expect(JSON.stringify(shown)).not.toContain("ya29.");

    const deleted = await call(`/v1/users/${subs[1]}`, keys.admin, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ revokedAtGoogle: true });
    expect(
      (await control(steward.google, "GET", `/emulator/users/${subs[1]}/grants`)).body.grants[0]
        .revoked,
    ).toBe(true);
    expect((await call(`/v1/users/${subs[1]}`, keys.admin)).status).toBe(404);
  });

  it("deletes a user whose credential no key opens: not revocable at Google, still erasable", async () => {
    const sub = await signedIn("corrupt-delete@example.com");
    await sql`UPDATE credentials
      SET refresh_token = set_byte(refresh_token, length(refresh_token) - 1,
                                   get_byte(refresh_token, length(refresh_token) - 1) # 1)
      WHERE sub = ${sub}`.execute(steward.service.vault.database.db);
    const deleted = await call(`/v1/users/${sub}`, ADMIN_TOKEN, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ revokedAtGoogle: false });
    expect((await call(`/v1/users/${sub}`, ADMIN_TOKEN)).status).toBe(404);
  });

  it("keeps personal data out of caches: Cache-Control no-store", async () => {
    const sub = await signedIn("no-store@example.com");
    const { idToken } = await sdkSignIn(steward.google, { email: "no-store@example.com" });
    const answers = [
      ...(await Promise.all(
        ["/v1/users", `/v1/users/${sub}`, "/v1/audit-events", "/v1/jobs"].map((path) =>
          call(path, ADMIN_TOKEN),
        ),
      )),
      await call("/v1/me", idToken, { headers: { "x-requested-with": "test" } }),
    ];
    for (const answer of answers) {
      expect(answer.status, answer.url).toBe(200);
      expect(answer.headers.get("cache-control"), answer.url).toBe("no-store");
    }
  });
});

describe("the Google proxy", () => {
  it("calls Google APIs as the user: Drive on www.googleapis.com, Photos by X-Google-Host", async () => {
    const sub = await signedIn("proxy@example.com");
    const list = await call(
      `/v1/users/${sub}/google/drive/v3/files?spaces=appDataFolder`,
      keys.proxy,
    );
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ files: [] });

    const upload = await call(`/v1/users/${sub}/google/v1/uploads`, keys.proxy, {
      method: "POST",
      headers: {
        "x-google-host": "photoslibrary.googleapis.com",
        "content-type": "application/octet-stream",
        "x-goog-upload-protocol": "raw",
      },
      body: Buffer.from("GIF89a-not-really"),
    });
    expect(upload.status).toBe(200);
    expect((await upload.text()).length).toBeGreaterThan(10);
  });

  it("answers with the headers a resumable upload goes on with", async () => {
    const sub = await signedIn("proxy-resumable@example.com");
    const session = {
      location:
        "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&upload_id=u1",
      range: "bytes=0-1023",
      "x-goog-upload-url": "https://photoslibrary.googleapis.com/v1/uploads?upload_id=u2",
      "x-goog-upload-status": "active",
    };
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/upload/drive/v3/files",
      status: 200,
      headers: session,
      body: {},
    });
    const response = await call(
      `/v1/users/${sub}/google/upload/drive/v3/files?uploadType=resumable`,
      keys.proxy,
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
    );
    expect(response.status).toBe(200);
    for (const [name, value] of Object.entries(session)) {
      expect(response.headers.get(name), name).toBe(value);
    }
  });

  it("reads no body before the key is checked", async () => {
    // 1 MiB announced and never sent: answering at all shows the body was not awaited.
    const response = await rawRequest({
      method: "POST",
      path: "/v1/users/123/google/upload/drive/v3/files",
      headers: { "content-type": "application/octet-stream", "content-length": String(1 << 20) },
      bodyWithheld: true,
    });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error.code).toBe("unauthenticated");
  });
});

/** A request as ApiAuth reads it, arriving on `socket` with `bearer` (no header when undefined). */
function onConnection(socket: object, bearer: string | undefined): FastifyRequest {
  return {
    protocol: "http",
    ip: "127.0.0.1",
    raw: { socket },
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  } as unknown as FastifyRequest;
}

/**
 * A request sent as written, path included (fetch would normalise dot segments). With
 * `bodyWithheld`, the announced body is never sent.
 */
function rawRequest(options: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  bodyWithheld?: boolean;
}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(steward.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { hostname, port, method: options.method, path: options.path, headers: options.headers },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => {
          // A withheld body would otherwise keep the connection, and the service, open.
          request.destroy();
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on("error", reject);
    if (options.bodyWithheld) request.flushHeaders();
    else request.end();
  });
}
