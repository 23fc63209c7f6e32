import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, type Page, chromium as playwright } from "playwright-core";

/** Screenshots and other browser-test output; git-ignored. */
export const ARTIFACTS_DIR = join(process.cwd(), "test-artifacts");

/**
 * Launches headless Chromium: `STEWARD_CHROMIUM` when set, else the browser the
 * `@sparticuz/chromium` devDependency ships inside its npm package, so nothing is downloaded at
 * test time. The flags keep it off the network: no updates, sync or background fetches.
 */
export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({
    executablePath: process.env.STEWARD_CHROMIUM || (await chromium.executablePath()),
    args: [
      ...chromium.args,
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      // Under LANG=C Chromium's locale is "en-US@posix", which Intl refuses (uPlot formats
      // numbers with it): a locale such as a desktop browser has.
      "--lang=en-US",
    ],
    headless: true,
  });
}

/** Saves a full-page screenshot as `test-artifacts/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
