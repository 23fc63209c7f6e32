// First-run polish of the pages, in Chromium: /admin with no STEWARD_ADMIN_TOKEN says it is off and
// how to turn it on. The demo's own first-run polish is in packages/demo/test/e2e/rough-edges.test.ts.
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/api-keys.js";
import { launchBrowser, screenshot } from "../e2e/browser.js";
import { startTestService, type TestService } from "../server/helpers.js";

let steward: TestService;
let browser: Browser;
let context: BrowserContext;
let adminKey: string;

beforeAll(async () => {
  // No STEWARD_ADMIN_TOKEN: `npm start` as a new user first runs it.
  [steward, browser] = await Promise.all([startTestService(), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  adminKey = (await new ApiKeys(steward.service.vault.database.db).create("ops", ["admin"])).key;
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await steward?.close();
});

describe("/admin with no admin token configured", () => {
  it("GET /admin/status says so, and nothing else", async () => {
    const response = await fetch(`${steward.url}/admin/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ adminTokenConfigured: false });
  });

  it("says the admin token is off and how to turn it on; an admin API key still opens it", async () => {
    const page = await context.newPage();
    await page.goto(`${steward.url}/admin`);
    await page.waitForSelector("#admin-off:not([hidden])");
    const off = (await page.textContent("#admin-off")) as string;
    expect(off).toContain("STEWARD_ADMIN_TOKEN is not set");
    expect(off).toContain("STEWARD_ADMIN_TOKEN=$(openssl rand -hex 32) npm start");
    expect(off).toContain("npx steward api-keys create --scope admin");

    await page.fill("#token", "not-a-key-at-all");
    await page.click("#use-token");
    await page.waitForSelector("#admin-error:not([hidden])");
    const refused = (await page.textContent("#admin-error")) as string;
    expect(refused).not.toBe("That token is not valid.");
    expect(refused).toContain("paste an admin API key, or set STEWARD_ADMIN_TOKEN");
    await screenshot(page, "polish-admin-off");

    await page.fill("#token", adminKey);
    await page.click("#use-token");
    await page.waitForSelector("#dashboard:not([hidden])");
    expect(await page.isHidden("#admin-error")).toBe(true);
    await page.close();
  });
});
