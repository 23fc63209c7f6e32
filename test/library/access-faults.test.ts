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

const signedIn = (email: string) => signInThroughService(service, email, { scopes: [APPDATA] });
const refreshes = (sub: string) => refreshGrantsOf(service, sub);
const fault = (path: string, rest: Record<string, unknown>) =>
  control(service.google, "POST", "/emulator/faults", { path, ...rest });
const filesUrl = () =>
  `${service.google.url}/drive/v3/files?spaces=appDataFolder&fields=files(id,name)`;
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
    const client = driveFor(sub);
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
    await expect(upload()).rejects.toMatchObject({ status: 401 });
    expect(await refreshes(sub)).toBe(1);
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
