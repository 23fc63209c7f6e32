// First-run polish of the demo, in Chromium: the emulator's consent page has a stylesheet of its
// own; the demo says why no album shows without the read permission, replaces "Queued" once the
// job ended, and turns the features off once the connection is revoked.
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { screenshot } from "../../../steward/test/e2e/browser.js";
import { firstRun } from "../../../steward/test/e2e/first-run.js";
import { PHOTOS_READ_SCOPE } from "../../src/features.js";
import { dullPhoto } from "../photo-fixture.js";
import { startDemoService } from "../support/demo-service.js";

const EMAIL = "grace@example.com";
// No STEWARD_ADMIN_TOKEN: `npm start` as a new user first runs it.
const run = firstRun(() => startDemoService());

/** Clicks what opens the consent popup, then consents there, unticking `untick`. */
async function consent(page: Page, opener: string, untick: string[] = [], shot?: string) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(opener)]);
  await popup.waitForSelector("#email");
  if (shot) {
    // Styled by its own inline stylesheet: a card, Google-blue Allow button, nothing fetched.
    const look = await popup.evaluate(() => ({
      card: getComputedStyle(document.querySelector("main.card") as Element).borderRadius,
      allow: getComputedStyle(document.querySelector("#allow") as Element).backgroundColor,
      sheets: Array.from(document.styleSheets, (sheet) => sheet.href),
      external: document.querySelectorAll("link, img, script[src]").length,
    }));
    expect(look).toEqual({ card: "24px", allow: "rgb(11, 87, 208)", sheets: [null], external: 0 });
    await screenshot(popup, shot);
  }
  await popup.fill("#email", EMAIL);
  for (const scope of untick) await popup.uncheck(`input[name=granted][value="${scope}"]`);
  await Promise.all([popup.waitForEvent("close"), popup.click("#allow")]);
}

describe("the demo's rough edges", () => {
  let page: Page;

  it("without the read permission, says listing albums needs it (not 'No albums yet') and offers to ask again", {
    timeout: 90_000,
  }, async () => {
    page = await run.context.newPage();
    await page.goto(run.steward.url);
    await page.waitForSelector("#sign-in");
    await consent(page, "#sign-in", [PHOTOS_READ_SCOPE], "polish-consent-page");
    await page.waitForSelector("#missing:not([hidden])");
    await page.setInputFiles("#photo", {
      name: "pier.jpg",
      mimeType: "image/jpeg",
      buffer: await dullPhoto(320, 200),
    });
    await page.click("#upload");
    await page.waitForSelector("#upload-status:has-text('Added pier.jpg')");
    await page.waitForSelector("#albums-need-read");
    const albums = (await page.textContent("#albums")) as string;
    expect(albums).not.toContain("No albums yet");
    expect(albums).toContain("Listing your albums needs the read permission");
    expect(albums).toContain("photoslibrary.readonly.appcreateddata");
    await screenshot(page, "polish-albums-need-read");

    await consent(page, "#albums-ask-again");
    // The token cached at upload lacked the read scope: the one now asked for is a fresh one.
    await page.waitForSelector('figure[data-album="Steward demo"] img');
    expect(await page.isVisible("#albums-need-read")).toBe(false);
  });

  it("replaces 'Queued' once the job has ended, saying how", { timeout: 90_000 }, async () => {
    await page.click('figure[data-album="Steward demo"] button.enhance');
    await page.waitForSelector("#enhance-status:has-text('Queued: you may close this page')");
    await page.waitForSelector(
      "#enhance-status:has-text('Enhanced: the copy is in the Enhanced album.')",
      {
        timeout: 60_000,
      },
    );
    expect(await page.textContent("#enhance-status")).not.toContain("Queued");
    expect(await page.textContent("#jobs")).toContain("completed");
  });

  it("turns every feature off (grey) once the connection is revoked", {
    timeout: 60_000,
  }, async () => {
    const onBefore = await page.$$eval("#features .pill", (pills) =>
      pills.map((pill) => pill.className),
    );
    expect(onBefore).toEqual(["pill ok", "pill ok"]);
    const users = await run.steward.service.vault.store.listUsers();
    const sub = users.find((user) => user.email === EMAIL)?.sub as string;
    const revoked = await fetch(`${run.steward.url}/v1/users/${sub}/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${run.adminKey}` },
    });
    expect(revoked.status).toBe(200);

    await page.reload();
    await page.waitForSelector("#reconnect:not([hidden])");
    const pills = await page.$$eval("#features .pill", (all) =>
      all.map((pill) => ({ className: pill.className, text: pill.textContent })),
    );
    expect(pills).toHaveLength(2);
    for (const pill of pills) {
      expect(pill.className).toBe("pill off");
      expect(pill.text).toMatch(/: off \(connection revoked\)$/);
    }
    await screenshot(page, "polish-revoked-features");
  });
});
