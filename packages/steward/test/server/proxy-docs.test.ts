// /docs: the OpenAPI document lists the proxy once, never TRACE, and the proxy refuses TRACE;
// the page shows Steward's logo, not Fastify's.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/index.js";
import { launchBrowser, screenshot } from "../e2e/browser.js";
import { sdkSignIn } from "../emulator/helpers.js";
import { rawRequest } from "../security/support.js";
import { postCode, startTestService, type TestService } from "./helpers.js";

const PROXY_PATH = "/v1/users/{sub}/google/{*}";
let steward: TestService;
let proxyKey: string;
let sub: string;

beforeAll(async () => {
  steward = await startTestService();
  proxyKey = (await new ApiKeys(steward.service.vault.database.db).create("docs", ["proxy"])).key;
  const signedIn = await sdkSignIn(steward.google, {
    email: "docs@example.com",
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  expect((await postCode(steward.url, { code: signedIn.serverAuthCode })).status).toBe(200);
  sub = signedIn.sub;
}, 120_000);
afterAll(() => steward?.close());

describe("the proxy in the OpenAPI document", () => {
  it("is one GET entry saying every method but TRACE is proxied", async () => {
    const document = await (await fetch(`${steward.url}/docs/json`)).json();
    const proxyPaths = Object.keys(document.paths).filter((path) => path.includes("}/google/"));
    expect(proxyPaths).toEqual([PROXY_PATH]);
    const entry = document.paths[PROXY_PATH];
    expect(Object.keys(entry)).toEqual(["get"]);
    expect(entry.get.description).toContain(
      "Every method but TRACE is proxied the same way: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.",
    );
    expect(JSON.stringify(document)).not.toMatch(/"trace"/i);
  });
});

describe("the proxy's methods", () => {
  const call = (method: string, authorization = `Bearer ${proxyKey}`) =>
    rawRequest(steward.url, {
      method,
      path: `/v1/users/${sub}/google/drive/v3/files?spaces=appDataFolder`,
      headers: { authorization },
    });

  it("refuses TRACE with 405 method_not_allowed, saying what it forwards, after the key", async () => {
    const refused = await call("TRACE");
    expect(refused.status).toBe(405);
    expect(refused.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        code: "method_not_allowed",
        message:
          "The proxy does not forward TRACE; it forwards GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.",
      },
    });
    expect((await call("TRACE", "Bearer steward_nope_nope")).status).toBe(401);
  });

  it("still forwards GET and HEAD (HEAD as HEAD, not as a GET)", async () => {
    const listed = await call("GET");
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toHaveProperty("files");
    const head = await call("HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });
});

describe("the /docs page in a browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(() => browser?.close());

  it("shows Steward's logo in the top bar, not Fastify's", { timeout: 60_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${steward.url}/docs`);
    const logo = "#swagger-ui .topbar .topbar-wrapper > a.link img";
    await page.waitForSelector(logo);
    const src = (await page.getAttribute(logo, "src")) as string;
    expect(src.startsWith("data:image/svg+xml;base64,")).toBe(true);
    const svg = Buffer.from(src.split(",")[1] as string, "base64").toString();
    expect(svg).toContain(">Steward</text>");
    expect(svg.toLowerCase()).not.toContain("fastify");
    expect(await page.title()).toBe("Steward API");
    // One operation for the proxy in the rendered list.
    await page.waitForSelector(".opblock");
    const proxyOperations = await page.$$eval(".opblock-summary-path", (paths) =>
      paths.map((path) => path.textContent ?? "").filter((path) => path.includes("}/google/")),
    );
    expect(proxyOperations).toHaveLength(1);
    await screenshot(page, "polish-docs");
    await page.close();
  });
});
