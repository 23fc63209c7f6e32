import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "kysely";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/index.js";
import { control } from "../emulator/helpers.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";
import { ARTIFACTS_DIR, launchBrowser, screenshot } from "./browser.js";

const ADMIN_TOKEN = "admin-token-for-admin-page-tests-0123456789";
const HOUR_MS = 3600_000;
const SERIES = ["signIns", "refreshes", "refreshFailures", "revocations"] as const;
type Series = (typeof SERIES)[number];

let steward: TestService;
let browser: Browser;
let page: Page;
const subs: Record<string, string> = {};

/** The start of the hour `hoursAgo` hours before this one, as an ISO string. */
const hourStart = (hoursAgo: number) =>
  new Date((Math.floor(Date.now() / HOUR_MS) - hoursAgo) * HOUR_MS).toISOString();

/** What the test gives the charts, at hours well inside both windows. */
const SEEDED_AUDIT: Array<{ type: string; hoursAgo: number; count: number }> = [
  { type: "user.signed_in", hoursAgo: 3, count: 2 },
  { type: "credential.revoked", hoursAgo: 5, count: 1 },
  { type: "user.signed_in", hoursAgo: 50, count: 4 },
];
const SEEDED_DATA: Record<string, object> = {
  "user.signed_in": { grantedScopes: ["openid", "email", "profile"], refreshTokenReceived: true },
  "credential.revoked": { reason: "revoked_by_admin" },
};
const SEEDED_COUNTS: Array<{ kind: string; hoursAgo: number; count: number }> = [
  { kind: "refreshed", hoursAgo: 2, count: 40 },
  { kind: "refresh_failed", hoursAgo: 2, count: 3 },
  { kind: "refreshed", hoursAgo: 100, count: 12 },
];

async function seedActivity(): Promise<void> {
  const db = steward.service.vault.database.db;
  for (const { type, hoursAgo, count } of SEEDED_AUDIT) {
    for (let i = 0; i < count; i++) {
      await sql`INSERT INTO audit_events (at, type, sub, actor, data)
        VALUES (${hourStart(hoursAgo)}::timestamptz + interval '20 minutes', ${type},
          ${`9${hoursAgo}${i}`}, 'system', ${JSON.stringify(SEEDED_DATA[type] ?? {})})`.execute(db);
    }
  }
  for (const { kind, hoursAgo, count } of SEEDED_COUNTS) {
    await sql`INSERT INTO activity_hourly (hour, kind, count)
      VALUES (${hourStart(hoursAgo)}::timestamptz, ${kind}, ${count})`.execute(db);
  }
}

beforeAll(async () => {
  [steward, browser] = await Promise.all([
    startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN }),
    launchBrowser(),
  ]);
  const scopes = [
    "https://www.googleapis.com/auth/drive.appdata",
    "https://www.googleapis.com/auth/drive.file",
  ];
  // Older activity first, as it happened: the event list shows newest (by id) first.
  await seedActivity();
  for (const email of ["ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com"]) {
    subs[email] = await signInThroughService(steward, email, { scopes, ttlSeconds: 2 });
  }
  const tokensKey = (
    await new ApiKeys(steward.service.vault.database.db).create("app", ["tokens:read"])
  ).key;
  const accessToken = (sub: string) =>
    fetch(`${steward.url}/v1/users/${sub}/access-token`, {
      headers: { authorization: `Bearer ${tokensKey}` },
    });
  // Ada's token is refreshed; cy's grant was revoked at Google, which the refresh finds out.
  expect((await accessToken(subs["ada@example.com"] as string)).status).toBe(200);
  await control(steward.google, "POST", `/emulator/users/${subs["cy@example.com"]}/revoke`);
  expect((await accessToken(subs["cy@example.com"] as string)).status).toBe(409);
  // Dee's grant dies seven days after it was stored, as an app in Testing sees.
  const dee = subs["dee@example.com"] as string;
  await sql`UPDATE credentials SET created_at = now() - interval '7 days' WHERE sub = ${dee}`.execute(
    steward.service.vault.database.db,
  );
  await control(steward.google, "POST", `/emulator/users/${dee}/revoke`);
  expect((await accessToken(dee)).status).toBe(409);
  // Google disables bob's account (a RISC account-disabled event, as the receiver records it).
  const bob = subs["bob@example.com"] as string;
  await steward.service.vault.store.recordSecurityEvent({
    jti: "admin-page-test-1",
    eventTypes: ["https://schemas.openid.net/secevent/risc/event-type/account-disabled"],
    sub: bob,
    revocations: [],
    accountStates: [{ sub: bob, disabled: { reason: "hijacking" } }],
    audit: [
      { type: "risc.account_disabled", sub: bob, actor: "google", data: { reason: "hijacking" } },
    ],
    events: [],
  });
  // A fixed locale and time zone: the same axis labels and dates on every machine.
  const context = await browser.newContext({
    viewport: { width: 1200, height: 900 },
    locale: "en-US",
    timezoneId: "UTC",
  });
  page = await context.newPage();
  // A script error fails the test, not a timeout: say what it was.
  page.on("pageerror", (error) => console.error("admin page error:", error.message));
  await page.goto(`${steward.url}/admin`);
  await page.fill("#token", ADMIN_TOKEN);
  await page.click("#use-token");
  await page.waitForSelector("body[data-loaded]");
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await steward?.close();
});

/** What the page's chart of `series` holds: uPlot's own data, x in seconds. */
async function chartData(series: Series): Promise<{ xs: number[]; ys: number[]; total: string }> {
  return page.evaluate((name) => {
    const chart = (window as any).stewardCharts[name];
    const figure = document.querySelector(`figure[data-series="${name}"]`) as HTMLElement;
    return {
      xs: [...chart.data[0]],
      ys: [...chart.data[1]],
      total: figure.querySelector(".total")?.textContent ?? "",
    };
  }, series);
}

/** What the API says, for comparison. */
async function apiHours(window: "day" | "week"): Promise<Array<Record<string, any>>> {
  const response = await fetch(`${steward.url}/v1/admin/activity?window=${window}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return (await response.json()).hours;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** The value a chart shows at the hour starting `hoursAgo` hours before this one. */
const at = (data: { xs: number[]; ys: number[] }, hoursAgo: number) =>
  data.ys[data.xs.indexOf(Date.parse(hourStart(hoursAgo)) / 1000)];

describe("the admin page in a browser", () => {
  it("charts each hour of the last day with the numbers it was given, totals included", async () => {
    const hours = await apiHours("day");
    for (const series of SERIES) {
      const data = await chartData(series);
      expect(data.xs, series).toHaveLength(24);
      expect(data.xs, series).toEqual(hours.map((entry) => Date.parse(entry.hour) / 1000));
      expect(data.ys, series).toEqual(hours.map((entry) => entry[series]));
      expect(data.total, series).toBe(String(sum(data.ys)));
    }
    const signIns = await chartData("signIns");
    expect(at(signIns, 3)).toBe(2);
    // The seeded two, and the four sign-ins of this test (this hour, or the last one).
    expect(sum(signIns.ys)).toBe(2 + 4);
    const refreshes = await chartData("refreshes");
    expect(at(refreshes, 2)).toBe(40);
    expect(sum(refreshes.ys)).toBe(40 + 1);
    const failures = await chartData("refreshFailures");
    expect(at(failures, 2)).toBe(3);
    expect(sum(failures.ys)).toBe(3);
    const revocations = await chartData("revocations");
    expect(at(revocations, 5)).toBe(1);
    expect(sum(revocations.ys)).toBe(1 + 2);
    // Drawn: each chart has its canvas.
    expect(await page.locator("figure.chart canvas").count()).toBe(4);
    await screenshot(page, "admin-day");
  });

  it("switches to the last week: 168 hours, older data included", async () => {
    await page.click("#window-week");
    await page.waitForFunction(() => (window as any).stewardCharts.signIns.data[0].length === 168);
    const hours = await apiHours("week");
    for (const series of SERIES) {
      const data = await chartData(series);
      expect(data.ys, series).toEqual(hours.map((entry) => entry[series]));
      expect(data.total, series).toBe(String(sum(data.ys)));
    }
    expect(at(await chartData("signIns"), 50)).toBe(4);
    expect(sum((await chartData("signIns")).ys)).toBe(4 + 2 + 4);
    expect(at(await chartData("refreshes"), 100)).toBe(12);
    expect(sum((await chartData("refreshes")).ys)).toBe(12 + 40 + 1);
    await screenshot(page, "admin-week");
    await page.click("#window-day");
    await page.waitForFunction(() => (window as any).stewardCharts.signIns.data[0].length === 24);
  });

  it("tells events as sentences, their details folded away", async () => {
    const sentences = await page.locator("#events .sentence").allTextContents();
    const granted = (await steward.service.vault.store.getUser(subs["ada@example.com"] as string))
      ?.credential?.grantedScopes.length;
    expect(granted).toBeGreaterThan(1);
    expect(sentences).toContain(`ada@example.com signed in (${granted} scopes)`);
    expect(sentences).toContain("Refresh for cy@example.com found the grant revoked");
    expect(sentences).toContain("Google disabled bob@example.com's account (hijacking)");
    expect(sentences).toContain(
      "Refresh for dee@example.com found the grant dead after seven days: is the app still in Testing?",
    );
    expect(sentences.join("\n")).not.toContain("{");

    const revoked = page
      .locator('#events li[data-type="credential.revoked"] details')
      .filter({ hasText: "found the grant revoked" });
    expect(await revoked.getAttribute("open")).toBeNull();
    expect(await revoked.locator("pre").isVisible()).toBe(false);
    await revoked.locator("summary").click();
    expect(await revoked.locator("pre").isVisible()).toBe(true);
    expect(await revoked.locator("pre").textContent()).toContain('"discoveredBy": "refresh"');
    await screenshot(page, "admin-event-unfolded");
  });

  it("shows users by email with their flags, and the credentials each key seals", async () => {
    const bob = page.locator(`#users tr[data-sub="${subs["bob@example.com"]}"]`);
    expect(await bob.locator("strong").textContent()).toBe("bob@example.com");
    expect(await bob.locator(".flag-disabled").textContent()).toBe(
      "disabled by Google (hijacking)",
    );
    const cy = page.locator(`#users tr[data-sub="${subs["cy@example.com"]}"]`);
    expect(await cy.locator(".status-revoked").textContent()).toBe("revoked");
    expect(await cy.locator(".flag-disabled").count()).toBe(0);
    // A grant that died after seven days is flagged as an app in Testing; cy's, revoked at
    // Google the day it was given, is not.
    const dee = page.locator(`#users tr[data-sub="${subs["dee@example.com"]}"]`);
    expect(await dee.locator(".flag-testing-mode").textContent()).toBe("likely Testing mode");
    expect(await cy.locator(".flag-testing-mode").count()).toBe(0);
    // Each user's sign-ins, and those that brought a refresh token (Google keeps 100).
    expect(await bob.locator(".sign-ins").textContent()).toBe("1 (1 with a refresh token)");

    const kid = steward.service.vault.keyring.activeKid;
    const keyRow = await page.locator("#keys tr").first().locator("td").allTextContents();
    // Ada's and bob's credentials are sealed; cy's was erased when revoked.
    expect(keyRow).toEqual([kid, "2", "active: seals new tokens"]);
    expect(await page.textContent("#rotation")).toBe(
      `Every credential is sealed with the active key ${kid}.`,
    );
  });

  it("saves the dashboard's picture for the README", async () => {
    await mkdir(join(process.cwd(), "docs", "img"), { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS_DIR, "admin.png"), fullPage: true });
    await copyFile(
      join(ARTIFACTS_DIR, "admin.png"),
      join(process.cwd(), "docs", "img", "admin.png"),
    );
  });

  it("searches users by email or sub prefix, and pages through them", async () => {
    // Enough users for two pages, sorted after the signed-in ones.
    for (let i = 0; i < 30; i++) {
      const n = String(i).padStart(2, "0");
      await steward.service.vault.store.upsertUser({
        sub: `999999999999999999999${n}`,
        email: `page-${n}@example.org`,
      });
    }
    const shown = () => page.locator("#users strong").allTextContents();
    const search = async (text: string) => {
      const before = await page.getAttribute("body", "data-loaded");
      await page.fill("#search", text);
      await page.click("#search-form button[type=submit]");
      await page.waitForFunction((previous) => document.body.dataset.loaded !== previous, before);
    };
    const click = async (selector: string) => {
      const before = await page.getAttribute("body", "data-loaded");
      await page.click(selector);
      await page.waitForFunction((previous) => document.body.dataset.loaded !== previous, before);
    };

    await search("ADA@");
    expect(await shown()).toEqual(["ada@example.com"]);
    await search((subs["bob@example.com"] as string).slice(0, 12));
    expect(await shown()).toContain("bob@example.com");
    await search("nobody");
    expect(await shown()).toEqual([]);
    expect(await page.isVisible("#users-empty")).toBe(true);

    await search("page-");
    const first = await shown();
    expect(first).toHaveLength(25);
    expect(first[0]).toBe("page-00@example.org");
    expect(await page.textContent("#users-page")).toBe("Page 1");
    await click("#users-next");
    // Polled: the periodic reload may land between a click and its own load.
    await expect
      .poll(shown, { timeout: 20_000 })
      .toEqual(Array.from({ length: 5 }, (_, i) => `page-${25 + i}@example.org`));
    expect(await page.textContent("#users-page")).toBe("Page 2");
    expect(await page.isDisabled("#users-next")).toBe(true);
    await screenshot(page, "admin-search-page-2");
    await click("#users-first");
    await expect.poll(shown, { timeout: 20_000 }).toEqual(first);

    await click("#search-clear");
    await expect
      .poll(async () => (await shown()).slice(0, 4).sort(), { timeout: 20_000 })
      .toEqual(["ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com"]);
  });
});
