// First-run polish of the pages, in Chromium: /admin with no STEWARD_ADMIN_TOKEN says it is off and
// how to turn it on. The demo's own first-run polish is in packages/demo/test/e2e/rough-edges.test.ts.
import { describe, expect, it } from "vitest";
import { startTestService } from "../server/helpers.js";
import { screenshot } from "./browser.js";
import { firstRun } from "./first-run.js";

// No STEWARD_ADMIN_TOKEN: `npm start` as a new user first runs it.
const run = firstRun(() => startTestService());

describe("/admin with no admin token configured", () => {
  it("GET /admin/status says so, and nothing else", async () => {
    const response = await fetch(`${run.steward.url}/admin/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ adminTokenConfigured: false });
  });

  it("says the admin token is off and how to turn it on; an admin API key still opens it", async () => {
    const page = await run.context.newPage();
    await page.goto(`${run.steward.url}/admin`);
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

    await page.fill("#token", run.adminKey);
    await page.click("#use-token");
    await page.waitForSelector("#dashboard:not([hidden])");
    expect(await page.isHidden("#admin-error")).toBe(true);
    await page.close();
  });
});
