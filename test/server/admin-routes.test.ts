import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/vault/api-keys.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "./helpers.js";

const ADMIN_TOKEN = "admin-token-for-admin-routes-0123456789";
const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let steward: TestService;
let tokensKey: string;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  tokensKey = (await new ApiKeys(steward.service.vault.database.db).create("jobs", ["tokens:read"]))
    .key;
}, 120_000);
afterAll(() => steward?.close());

const call = (path: string, key: string | undefined, init: RequestInit = {}) =>
  fetch(`${steward.url}${path}`, {
    ...init,
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });

async function signedIn(email: string): Promise<string> {
  const { serverAuthCode, sub } = await sdkSignIn(steward.google, { email, scopes: [APPDATA] });
  expect((await postCode(steward.url, { code: serverAuthCode })).status).toBe(200);
  return sub;
}

describe("the admin page's API", () => {
  it("admin only: no credential is 401, a key without the admin scope 403", async () => {
    const sub = await signedIn("guarded@example.com");
    for (const [path, method] of [
      ["/v1/audit-events", "GET"],
      ["/v1/jobs", "GET"],
      [`/v1/users/${sub}/revoke`, "POST"],
    ] as const) {
      expect((await call(path, undefined, { method })).status, path).toBe(401);
      expect((await call(path, tokensKey, { method })).status, path).toBe(403);
    }
    expect((await call(`/v1/users/${sub}`, ADMIN_TOKEN)).status).toBe(200);
  });

  it("POST /v1/users/{sub}/revoke revokes at Google and keeps the user, marked revoked", async () => {
    const sub = await signedIn("revoked@example.com");
    const revoke = await call(`/v1/users/${sub}/revoke`, ADMIN_TOKEN, { method: "POST" });
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toEqual({ revokedAtGoogle: true });
    const grants = await control(steward.google, "GET", `/emulator/users/${sub}/grants`);
    expect(JSON.stringify(grants.body)).toContain('"revoked":true');
    const user = await (await call(`/v1/users/${sub}`, ADMIN_TOKEN)).json();
    expect(user.credential).toMatchObject({ status: "revoked", revokedReason: "revoked_by_admin" });
    const token = await call(`/v1/users/${sub}/access-token`, tokensKey);
    expect(token.status).toBe(409);
    expect((await token.json()).error.code).toBe("credential_revoked");
    const missing = await call("/v1/users/404404/revoke", ADMIN_TOKEN, { method: "POST" });
    expect(missing.status).toBe(404);
  });

  it("GET /v1/audit-events lists events newest first, per user when asked, with no secret", async () => {
    const sub = await signedIn("audited@example.com");
    await call(`/v1/users/${sub}/revoke`, ADMIN_TOKEN, { method: "POST" });
    const response = await call(`/v1/audit-events?sub=${sub}&limit=10`, ADMIN_TOKEN);
    expect(response.status).toBe(200);
    const text = await response.text();
    const { events } = JSON.parse(text);
    expect(events.map((event: { type: string }) => event.type)).toEqual([
      "credential.revoked",
      "user.signed_in",
    ]);
    expect(events[0]).toMatchObject({ sub, actor: "admin", data: { reason: "revoked_by_admin" } });
    expect(text).not.toMatch(/ya29\.|1\/\/0|"4\/0/);
    expect((await call("/v1/audit-events?limit=0", ADMIN_TOKEN)).status).toBe(400);
  });

  it("GET /v1/jobs lists jobs with their state and error code", async () => {
    const sub = await signedIn("jobs@example.com");
    const jobs = steward.service.jobs;
    await jobs.define(
      "test.fails",
      async () => {
        throw new Error("boom");
      },
      { retryLimit: 0 },
    );
    const id = await jobs.enqueue("test.fails", sub, {});
    await expect
      .poll(async () => (await jobs.status(id))?.state, { timeout: 20_000 })
      .toBe("failed");
    const listed = await (await call(`/v1/jobs?sub=${sub}`, ADMIN_TOKEN)).json();
    expect(listed.jobs).toEqual([
      expect.objectContaining({
        id,
        name: "test.fails",
        sub,
        state: "failed",
        error: expect.objectContaining({ code: "job_failed" }),
      }),
    ]);
  });
});
