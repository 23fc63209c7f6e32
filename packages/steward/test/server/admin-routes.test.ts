import Fastify from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/index.js";
import { servePackageAsset } from "../../src/server/web-assets.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, signInThroughService, startTestService, type TestService } from "./helpers.js";

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

const HOUR_MS = 3600_000;
/** The start of the hour `hoursAgo` hours before this one, as the API writes it. */
const hourStart = (hoursAgo: number) =>
  new Date((Math.floor(Date.now() / HOUR_MS) - hoursAgo) * HOUR_MS).toISOString();

async function seedAudit(type: string, at: string, count: number): Promise<void> {
  const db = steward.service.vault.database.db;
  for (let i = 0; i < count; i++) {
    await sql`INSERT INTO audit_events (at, type, sub, actor, data)
      VALUES (${at}::timestamptz, ${type}, ${`seeded-${i}`}, 'system', '{}')`.execute(db);
  }
}

async function activity(window?: string): Promise<any> {
  const response = await call(
    `/v1/admin/activity${window ? `?window=${window}` : ""}`,
    ADMIN_TOKEN,
  );
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return response.json();
}

const bucket = (body: any, hour: string) =>
  body.hours.find((entry: { hour: string }) => entry.hour === hour);

describe("the admin page's search, activity and keys", () => {
  it("GET /v1/users?q= finds users by email prefix (any case) or sub prefix, pages, and takes % literally", async () => {
    const store = steward.service.vault.store;
    for (let i = 0; i < 5; i++) {
      await store.upsertUser({ sub: `77700${i}`, email: `Search.${i}@Example.com` });
    }
    await store.upsertUser({ sub: "888000", email: "percent%@example.com" });
    const list = async (query: string) => {
      const response = await call(`/v1/users?${query}`, ADMIN_TOKEN);
      expect(response.status, query).toBe(200);
      return response.json();
    };
    const subs = (body: any) => body.users.map((entry: any) => entry.user.sub);

    expect(subs(await list("q=search."))).toEqual([
      "777000",
      "777001",
      "777002",
      "777003",
      "777004",
    ]);
    expect(subs(await list("q=SEARCH.3%40"))).toEqual(["777003"]);
    expect(subs(await list("q=7770"))).toEqual(["777000", "777001", "777002", "777003", "777004"]);
    const first = await list("q=search&limit=2");
    expect(subs(first)).toEqual(["777000", "777001"]);
    expect(first.nextCursor).toBe("777001");
    const second = await list(`q=search&limit=2&after=${first.nextCursor}`);
    expect(subs(second)).toEqual(["777002", "777003"]);
    // A wildcard of LIKE matches only itself.
    expect(subs(await list("q=%25"))).toEqual([]);
    expect(subs(await list("q=_"))).toEqual([]);
    expect(subs(await list("q=percent%25"))).toEqual(["888000"]);
    // Validated as any sub: a NUL or an over-long value is a 400 with the envelope.
    for (const bad of ["q=%00", `q=${"1".repeat(300)}`, "q="]) {
      const response = await call(`/v1/users?${bad}`, ADMIN_TOKEN);
      expect(response.status, bad).toBe(400);
      expect((await response.json()).error.code).toBe("invalid_request");
    }
  });

  it("GET /v1/audit-events names the user each event is about by email", async () => {
    const sub = await signedIn("named@example.com");
    const { events } = await (await call(`/v1/audit-events?sub=${sub}`, ADMIN_TOKEN)).json();
    expect(events[0]).toMatchObject({ type: "user.signed_in", sub, email: "named@example.com" });
  });

  it("GET /v1/admin/activity buckets audited sign-ins and revocations per hour over a day and a week", async () => {
    await seedAudit("user.signed_in", hourStart(3).replace(":00.000Z", ":10.000Z"), 2);
    await seedAudit("credential.revoked", hourStart(5).replace(":00.000Z", ":59.000Z"), 1);
    await seedAudit("user.signed_in", hourStart(50), 4);
    await seedAudit("token.handed_out", hourStart(3), 7);

    const day = await activity();
    expect(day.window).toBe("day");
    expect(day.hours).toHaveLength(24);
    expect(day.hours.at(-1).hour).toBe(hourStart(0));
    expect(bucket(day, hourStart(3))).toMatchObject({ signIns: 2, revocations: 0 });
    expect(bucket(day, hourStart(5))).toMatchObject({ signIns: 0, revocations: 1 });
    expect(bucket(day, hourStart(50))).toBeUndefined();
    expect(bucket(day, hourStart(4))).toEqual({
      hour: hourStart(4),
      signIns: 0,
      refreshes: 0,
      refreshFailures: 0,
      revocations: 0,
    });

    const week = await activity("week");
    expect(week.hours).toHaveLength(168);
    expect(bucket(week, hourStart(50))).toMatchObject({ signIns: 4 });
    expect(bucket(week, hourStart(3))).toMatchObject({ signIns: 2 });

    const refused = await call("/v1/admin/activity?window=month", ADMIN_TOKEN);
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.code).toBe("invalid_request");
  });

  it("counts each refresh, and each failed refresh, in this hour's bucket as it is written", async () => {
    const before = (await activity()).hours.at(-1);
    const sub = await signInThroughService(steward, "refreshing@example.com", { ttlSeconds: 2 });
    expect((await call(`/v1/users/${sub}/access-token`, tokensKey)).status).toBe(200);

    const failing = await signInThroughService(steward, "failing@example.com", { ttlSeconds: 2 });
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/token",
      status: 503,
      times: 1000,
    });
    expect((await call(`/v1/users/${failing}/access-token`, tokensKey)).status).toBe(502);
    await control(steward.google, "DELETE", "/emulator/faults");

    const after = (await activity()).hours.at(-1);
    // The hour may have turned between the two reads: then the new bucket holds both alone.
    const base = after.hour === before.hour ? before : { refreshes: 0, refreshFailures: 0 };
    expect(after.refreshes - base.refreshes).toBe(1);
    expect(after.refreshFailures - base.refreshFailures).toBe(1);
  });

  it("GET /v1/admin/keys counts the credentials each key seals", async () => {
    const response = await call("/v1/admin/keys", ADMIN_TOKEN);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const { keys } = await response.json();
    const users = await steward.service.vault.store.listUsers({ limit: 1000 });
    const sealed = users.filter((user) => user.credential?.hasRefreshToken).length;
    expect(keys).toEqual([
      {
        kid: steward.service.vault.keyring.activeKid,
        credentials: sealed,
        active: true,
        inRing: true,
      },
    ]);
    expect(sealed).toBeGreaterThan(0);
    expect((await call("/v1/admin/keys", tokensKey)).status).toBe(403);
    expect((await call("/v1/admin/activity", undefined)).status).toBe(401);
  });
});

describe("the charts' library", () => {
  it("is served from its npm package, by a fixed list of names only", async () => {
    const script = await fetch(`${steward.url}/assets/uPlot.iife.min.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain("uPlot");
    const css = await fetch(`${steward.url}/assets/uPlot.min.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await fetch(`${steward.url}/assets/uPlot.esm.js`)).status).toBe(404);
    const app = Fastify();
    for (const name of ["../package.json", "uPlot.esm.js", "toString", "__proto__"]) {
      await expect(servePackageAsset(app, "/x", name), name).rejects.toThrow(TypeError);
    }
    await app.close();
  });
});
