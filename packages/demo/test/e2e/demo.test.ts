import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot } from "../../../steward/test/e2e/browser.js";
import { PHOTOS_READ_SCOPE } from "../../src/features.js";
import { dullPhoto } from "../photo-fixture.js";
import { startDemoService, type TestService } from "../support/demo-service.js";

const ADMIN_TOKEN = "admin-token-for-browser-tests-0123456789";
const EMAIL = "ada@example.com";

let steward: TestService;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  [steward, browser] = await Promise.all([
    startDemoService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN }),
    launchBrowser(),
  ]);
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await steward?.close();
});

/** Clicks what opens the consent popup, then consents there as `email`, unticking `untick`. */
async function consent(page: Page, opener: string, untick: string[] = []): Promise<void> {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(opener)]);
  await popup.waitForSelector("#email");
  await popup.fill("#email", EMAIL);
  for (const scope of untick) await popup.uncheck(`input[name=granted][value="${scope}"]`);
  await Promise.all([popup.waitForEvent("close"), popup.click("#allow")]);
}

async function openDemo(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(steward.url);
  return page;
}

async function subOf(email: string): Promise<string> {
  const users = await steward.service.vault.store.listUsers();
  const user = users.find((candidate) => candidate.email === email);
  if (!user) throw new Error(`${email} has not signed in`);
  return user.sub;
}

/** The bytes behind an <img> of the page, fetched with the page's own session. */
async function imageBytes(page: Page, selector: string): Promise<Buffer> {
  const src = await page.getAttribute(selector, "src");
  const response = await page.request.get(new URL(src as string, steward.url).href);
  expect(response.status()).toBe(200);
  return Buffer.from(await response.body());
}

describe("the demo photo app in a browser", () => {
  const original = dullPhoto(640, 420);
  let page: Page;

  it("signs in with one scope unticked, names the feature that is off, then asks again", async () => {
    page = await openDemo();
    await page.waitForSelector("#sign-in");
    await consent(page, "#sign-in", [PHOTOS_READ_SCOPE]);
    await page.waitForSelector("#missing:not([hidden])");
    const missing = await page.textContent("#missing-text");
    expect(missing).toContain("Showing your albums here");
    expect(missing).toContain("photoslibrary.readonly.appcreateddata");
    expect(await page.textContent("#user-email")).toBe(EMAIL);
    expect(await page.textContent("#connection-status")).toBe("active");
    await screenshot(page, "1-scope-unticked");

    await consent(page, "#ask-again");
    await page.waitForSelector("#missing", { state: "hidden" });
    const scopes = await page.textContent("#scopes");
    expect(scopes).toContain("photoslibrary.readonly.appcreateddata");
    expect(scopes).toContain("photoslibrary.appendonly");
  });

  it("uploads a photo into the app's album and shows it", async () => {
    await page.setInputFiles("#photo", {
      name: "harbour.jpg",
      mimeType: "image/jpeg",
      buffer: await original,
    });
    await page.click("#upload");
    await page.waitForSelector('figure[data-album="Steward demo"] img');
    expect(await page.textContent("#upload-status")).toContain('to "Steward demo"');
    const shown = await imageBytes(page, 'figure[data-album="Steward demo"] img');
    expect(Buffer.compare(shown, await original)).toBe(0);
    await screenshot(page, "2-uploaded");
  });

  it("enhances while the page is closed; reopened, the page shows the enhanced photo", {
    timeout: 90_000,
  }, async () => {
    await page.click('figure[data-album="Steward demo"] button.enhance');
    await page.waitForSelector("#enhance-status:has-text('Queued: you may close this page')");
    await page.close();

    const sub = await subOf(EMAIL);
    const jobs = steward.service.jobs;
    await expect
      .poll(async () => (await jobs.list({ sub }))[0]?.state, { timeout: 30_000 })
      .toBe("completed");

    page = await openDemo();
    const enhanced = 'figure[data-album="Enhanced"] img';
    await page.waitForSelector(enhanced);
    await page.waitForFunction(
      (selector) => (document.querySelector(selector) as HTMLImageElement | null)?.naturalWidth,
      enhanced,
    );
    const bytes = await imageBytes(page, enhanced);
    expect(Buffer.compare(bytes, await original)).not.toBe(0);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 640, 420]);
    expect(await page.textContent("#jobs")).toContain("completed");
    await screenshot(page, "3-enhanced");
  });

  it("after an admin revokes the user, the next job fails with credential_revoked and the page says reconnect", {
    timeout: 90_000,
  }, async () => {
    const admin = await context.newPage();
    await admin.goto(`${steward.url}/admin`);
    await admin.fill("#token", ADMIN_TOKEN);
    await admin.click("#use-token");
    const sub = await subOf(EMAIL);
    const row = `tr[data-sub="${sub}"]`;
    await admin.waitForSelector(`${row} .status-active`);
    expect(await admin.textContent(`${row}`)).toContain("photoslibrary.appendonly");
    // The admin token is in the page's memory, not in storage a browser writes to disk.
    const stored = await admin.evaluate(() =>
      JSON.stringify([{ ...sessionStorage }, { ...localStorage }, document.cookie]),
    );
    expect(stored).not.toContain(ADMIN_TOKEN);
    admin.once("dialog", (dialog) => dialog.accept());
    await admin.click(`${row} button.revoke`);
    await admin.waitForSelector(`${row} .status-revoked`);
    expect(await admin.textContent("#events")).toContain("credential.revoked");
    await screenshot(admin, "4-admin-revoked");

    // The demo page was open before the revocation: its Enhance button is still there.
    await page.click('figure[data-album="Steward demo"] button.enhance');
    await expect
      .poll(async () => (await steward.service.jobs.list({ sub }))[0]?.error?.code, {
        timeout: 30_000,
      })
      .toBe("credential_revoked");
    await page.reload();
    await page.waitForSelector("#reconnect:not([hidden])");
    expect(await page.textContent("#reconnect-button")).toBe("Reconnect");
    expect(await page.textContent("#jobs")).toContain("credential_revoked");
    await screenshot(page, "5-reconnect");

    // Reconnecting is signing in again: the connection is active, the notice gone.
    await consent(page, "#reconnect-button");
    await page.waitForSelector("#reconnect", { state: "hidden" });
    expect(await page.textContent("#connection-status")).toBe("active");
  });

  it("kept every secret out of the logs: no token, code, session or admin token", () => {
    const logs = steward.logs();
    expect(logs).toContain("/demo/api/session");
    for (const secret of [
      /ya29\./,
      /1\/\/0/,
      /"4\/0/,
      /steward_demo_session=/,
      /admin-token-for/,
    ]) {
      expect(logs).not.toMatch(secret);
    }
  });
});
