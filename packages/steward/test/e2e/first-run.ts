// What the first-run page tests share (the product's /admin in first-run-pages.test.ts, the
// demo's rough edges in packages/demo/test/e2e): the service as a new user first runs it, with no
// STEWARD_ADMIN_TOKEN, a Chromium page context, and an admin API key.
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { ApiKeys } from "../../src/api-keys/api-keys.js";
import type { TestService } from "../server/helpers.js";
import { launchBrowser } from "./browser.js";

export interface FirstRun {
  /** The service `start` made. */
  readonly steward: TestService;
  /** Chromium, at a desktop window's size. */
  readonly context: BrowserContext;
  /** An API key of scope `admin`, as `steward api-keys create --scope admin` makes one. */
  readonly adminKey: string;
}

/**
 * Registers the file's beforeAll, which starts the service (`start`, given no admin token) and
 * Chromium, and its afterAll, which closes them. The fields are set once beforeAll has run.
 */
export function firstRun(start: () => Promise<TestService>): FirstRun {
  const run = {} as { steward: TestService; context: BrowserContext; adminKey: string };
  let browser: Browser | undefined;
  beforeAll(async () => {
    [run.steward, browser] = await Promise.all([start(), launchBrowser()]);
    run.context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const keys = new ApiKeys(run.steward.service.vault.database.db);
    run.adminKey = (await keys.create("ops", ["admin"])).key;
  }, 120_000);
  afterAll(async () => {
    await run.context?.close();
    await browser?.close();
    await run.steward?.close();
  });
  return run;
}
