import { drive } from "@googleapis/drive";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { createSteward, type Steward } from "../../src/index.js";
import { control } from "../emulator/helpers.js";
import {
  refreshGrantsOf,
  sharedEnvironment,
  signInThroughService,
  startTestService,
  type TestService,
} from "../server/helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let service: TestService;
let steward: Steward;

beforeAll(async () => {
  service = await startTestService();
  steward = await createSteward({ config: loadConfig(await sharedEnvironment(service)) });
}, 120_000);
afterAll(async () => {
  await steward?.close();
  await service?.close();
});
beforeEach(async () => {
  await control(service.google, "DELETE", "/emulator/faults");
  await control(service.google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 });
});

const signedIn = (email: string, ttlSeconds = 3599) =>
  signInThroughService(service, email, { ttlSeconds, scopes: [APPDATA] });
const refreshes = (sub: string) => refreshGrantsOf(service, sub);
const filesUrl = () =>
  `${service.google.url}/drive/v3/files?spaces=appDataFolder&fields=files(id,name)`;

const fault = (path: string, rest: Record<string, unknown>) =>
  control(service.google, "POST", "/emulator/faults", { path, ...rest });
const uploadUrl = () => `${service.google.url}/upload/drive/v3/files?uploadType=media`;
const streamOf = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
/** A body fetch can send once only; Node's fetch wants `duplex` with it. */
const streamed = (text: string): RequestInit =>
  ({ method: "POST", body: streamOf(text), duplex: "half" }) as RequestInit;

describe("authClient with @googleapis/drive", () => {
  it("writes and reads appDataFolder long after sign-in, across an access-token expiry", async () => {
    const sub = await signedIn("drive@example.com", 1);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the sign-in's token is dead now
    const rootUrl = `${service.google.url}/`;
    const client = drive({ version: "v3", auth: steward.authClient(sub), rootUrl });
    const created = await client.files.create(
      {
        requestBody: { name: "settings.json", parents: ["appDataFolder"] },
        media: { mimeType: "application/json", body: '{"theme":"dark"}' },
        fields: "id",
      },
      { rootUrl },
    );
    const listed = await client.files.list({ spaces: "appDataFolder", fields: "files(id, name)" });
    expect(listed.data.files).toEqual([{ id: created.data.id, name: "settings.json" }]);
    const content = await client.files.get(
      { fileId: created.data.id as string, alt: "media" },
      { responseType: "text" },
    );
    expect(content.data).toBe('{"theme":"dark"}');
    expect(await refreshes(sub)).toBe(1);
  });

  it("refreshes once and retries when Google refuses a token that looked valid", async () => {
    const sub = await signedIn("refused@example.com");
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 401,
      times: 1,
    });
    const client = drive({
      version: "v3",
      auth: steward.authClient(sub),
      rootUrl: `${service.google.url}/`,
    });
    const listed = await client.files.list({ spaces: "appDataFolder" });
    expect(listed.status).toBe(200);
    expect(await refreshes(sub)).toBe(1);
  });
});

describe("fetchAs", () => {
  const quick = { baseDelayMs: 10, maxBackoffMs: 2000 };

  it("calls a Google API as the user", async () => {
    const sub = await signedIn("fetch@example.com");
    const response = await steward.fetchAs(sub, filesUrl());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ files: [] });
  });

  it("takes Google's own API URLs in emulator mode, so the same code runs against Google", async () => {
    const sub = await signedIn("fetch-google-url@example.com");
    const response = await steward.fetchAs(
      sub,
      "https://www.googleapis.com/drive/v3/files?spaces=appDataFolder&fields=files(id)",
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ files: [] });
    await expect(steward.fetchAs(sub, "https://example.com/")).rejects.toMatchObject({
      code: "url_not_allowed",
    });
  });

  it("refreshes and retries once on a 401, and gives back a second 401", async () => {
    const sub = await signedIn("fetch401@example.com");
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 401,
      times: 1,
    });
    expect((await steward.fetchAs(sub, filesUrl())).status).toBe(200);
    expect(await refreshes(sub)).toBe(1);
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 401,
      times: 2,
    });
    expect((await steward.fetchAs(sub, filesUrl())).status).toBe(401);
  });

  it("backs off on 5xx, 429 and rate-limit 403s for idempotent requests, honouring Retry-After", async () => {
    const sub = await signedIn("backoff@example.com");
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 503,
      times: 2,
    });
    expect((await steward.fetchAs(sub, filesUrl(), {}, quick)).status).toBe(200);

    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 403,
      body: {
        error: {
          code: 403,
          message: "User Rate Limit Exceeded",
          errors: [{ reason: "userRateLimitExceeded", domain: "usageLimits" }],
        },
      },
    });
    expect((await steward.fetchAs(sub, filesUrl(), {}, quick)).status).toBe(200);

    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 429,
      headers: { "retry-after": "1" },
    });
    const started = Date.now();
    expect((await steward.fetchAs(sub, filesUrl(), {}, quick)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("does not retry a non-idempotent request, nor a 403 that is not a rate limit", async () => {
    const sub = await signedIn("noretry@example.com");
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 503,
      times: 1,
    });
    const posted = await steward.fetchAs(
      sub,
      `${service.google.url}/drive/v3/files`,
      { method: "POST", body: "{}" },
      quick,
    );
    expect(posted.status).toBe(503);
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 403,
      times: 1,
      body: { error: { errors: [{ reason: "insufficientPermissions" }] } },
    });
    expect((await steward.fetchAs(sub, filesUrl(), {}, quick)).status).toBe(403);
  });

  it("sends the token to Google API hosts only, redirects included", async () => {
    const sub = await signedIn("allow@example.com");
    for (const url of [
      "https://evil.example/steal",
      "http://www.googleapis.com/drive/v3/files",
      "file:///etc/passwd",
      "not a url",
    ]) {
      await expect(steward.fetchAs(sub, url)).rejects.toMatchObject({
        code: "url_not_allowed",
        status: 400,
      });
    }
    await control(service.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 302,
      headers: { location: "https://evil.example/steal" },
    });
    await expect(steward.fetchAs(sub, filesUrl())).rejects.toMatchObject({
      code: "url_not_allowed",
    });
  });
});

describe("revoke and events", () => {
  it("revokes at Google, marks the credential, announces it, and later calls fail", async () => {
    const sub = await signedIn("bye@example.com");
    const events: unknown[] = [];
    const off = steward.on("credential.revoked", (event) => events.push(event));
    expect(await steward.revoke(sub)).toEqual({ revokedAtGoogle: true });
    off();
    expect(events).toEqual([{ sub, reason: "revoked_by_app" }]);
    const grants = await control(service.google, "GET", `/emulator/users/${sub}/grants`);
    expect(grants.body.grants[0].revoked).toBe(true);
    await expect(steward.accessToken(sub)).rejects.toMatchObject({ code: "credential_revoked" });
  });
});

describe("authClient under Google's refusals", () => {
  const rootUrl = () => `${service.google.url}/`;
  const driveFor = (sub: string) =>
    drive({ version: "v3", auth: steward.authClient(sub), rootUrl: rootUrl() });

  it("a 403 (rate limit, quota, permission) does not refresh the token at Google", async () => {
    const sub = await signedIn("authclient403@example.com");
    const client = driveFor(sub);
    await fault("/drive/v3/files", {
      status: 403,
      times: 1,
      body: {
        error: {
          code: 403,
          message: "User Rate Limit Exceeded",
          errors: [{ reason: "userRateLimitExceeded", domain: "usageLimits" }],
        },
      },
    });
    const refused = await client.files.list({ spaces: "appDataFolder" }).catch((error) => error);
    expect(await refreshes(sub)).toBe(0);
    // Nor is the request sent again: the caller gets the 403 and its reason.
    expect(refused).toMatchObject({ status: 403 });
    expect((await client.files.list({ spaces: "appDataFolder" })).status).toBe(200);
    expect(await refreshes(sub)).toBe(0);
  });

  it("a 401 on an upload it cannot send again still refuses the token", async () => {
    const sub = await signedIn("authclient401stream@example.com");
    const auth = steward.authClient(sub);
    const client = drive({ version: "v3", auth, rootUrl: rootUrl() });
    await fault("/upload/drive/v3/files", { status: 401, times: 1 });
    // A multipart upload's body is a stream, read once: the 401 comes back to the caller.
    const upload = () =>
      client.files.create(
        {
          requestBody: { name: "a.json", parents: ["appDataFolder"] },
          media: { mimeType: "application/json", body: "{}" },
          fields: "id",
        },
        { rootUrl: rootUrl() },
      );
    const { token: refused } = await auth.getAccessToken();
    await expect(upload()).rejects.toMatchObject({ status: 401 });
    expect(await refreshes(sub)).toBe(1);
    // The client does not send the refused token again: the next upload carries the fresh one.
    expect(auth.credentials.access_token).not.toBe(refused);
    expect((await upload()).status).toBe(200);
    expect(await refreshes(sub)).toBe(1);
  });
});

describe("fetchAs under aborts and refusals", () => {
  it("stops backing off when the caller aborts, rejecting with the signal's reason", async () => {
    const sub = await signedIn("abort@example.com");
    await fault("/drive/v3/files", { status: 503, times: 5, headers: { "retry-after": "120" } });
    const controller = new AbortController();
    const reason = new Error("job timed out");
    setTimeout(() => controller.abort(reason), 200);
    const started = Date.now();
    await expect(
      steward.fetchAs(sub, filesUrl(), { signal: controller.signal }, { maxBackoffMs: 10_000 }),
    ).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
    // Already aborted: nothing is sent.
    await expect(steward.fetchAs(sub, filesUrl(), { signal: controller.signal })).rejects.toBe(
      reason,
    );
  });

  it("a 401 on a body it cannot send again refuses the token, then gives back the 401", async () => {
    const sub = await signedIn("fetch401stream@example.com");
    await fault("/upload/drive/v3/files", { status: 401, times: 1 });
    expect((await steward.fetchAs(sub, uploadUrl(), streamed("{}"))).status).toBe(401);
    expect(await refreshes(sub)).toBe(1);
    expect((await steward.fetchAs(sub, filesUrl())).status).toBe(200);
    expect(await refreshes(sub)).toBe(1);
  });

  it("a 401 on a body it cannot send again surfaces a dead grant as credential_revoked", async () => {
    const sub = await signedIn("fetch401revoked@example.com");
    await control(service.google, "POST", `/emulator/users/${sub}/revoke`, {});
    await fault("/upload/drive/v3/files", { status: 401, times: 1 });
    await expect(steward.fetchAs(sub, uploadUrl(), streamed("{}"))).rejects.toMatchObject({
      code: "credential_revoked",
    });
  });
});

describe("fetchAs redirects", () => {
  const create = { method: "POST", body: '{"name":"r.json","parents":["appDataFolder"]}' };

  it("follows a 303, and a 301 or 302 after POST, with a GET without body", async () => {
    const sub = await signedIn("see-other@example.com");
    for (const status of [303, 302, 301]) {
      await fault("/drive/v3/files", { status, times: 1, headers: { location: filesUrl() } });
      const response = await steward.fetchAs(sub, `${service.google.url}/drive/v3/files`, {
        ...create,
        headers: { "content-type": "application/json" },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ files: [] });
    }
  });

  it("re-sends the method and body on a 307, and gives back a 307 whose body is a stream", async () => {
    const sub = await signedIn("temporary@example.com");
    const target = `${service.google.url}/drive/v3/files?fields=id,name`;
    await fault("/drive/v3/files", { status: 307, times: 1, headers: { location: target } });
    const resent = await steward.fetchAs(sub, `${service.google.url}/drive/v3/files`, {
      ...create,
      headers: { "content-type": "application/json" },
    });
    expect(resent.status).toBe(200);
    expect(await resent.json()).toMatchObject({ name: "r.json" });

    await fault("/upload/drive/v3/files", { status: 307, times: 1, headers: { location: target } });
    const kept = await steward.fetchAs(sub, uploadUrl(), streamed("{}"));
    expect(kept.status).toBe(307);
    expect(kept.headers.get("location")).toBe(target);
  });
});
