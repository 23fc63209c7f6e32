import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchAs } from "../../src/access/fetch-as.js";
import { ApiKeys } from "../../src/api-keys/index.js";
import { isStewardError } from "../../src/errors.js";
import { atApiBase } from "../../src/google/endpoints.js";
import { control } from "../emulator/helpers.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";
import { jsonOf, type RawAnswer, rawRequest } from "./support/raw-request.js";

// In emulator mode (what `npm start` runs) the proxy's upstream is the in-process emulator, whose
// control API hands out client secrets and raw refresh tokens and injects faults. A key with
// only the `proxy` scope must reach its Google API stand-ins and nothing else, however spelt.

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let steward: TestService;
let proxyKey: string;
let sub: string;
let other: string;

beforeAll(async () => {
  steward = await startTestService();
  proxyKey = (await new ApiKeys(steward.service.vault.database.db).create("proxy", ["proxy"])).key;
  sub = await signInThroughService(steward, "attacker@example.com", { scopes: [APPDATA] });
  other = await signInThroughService(steward, "victim@example.com", { scopes: [APPDATA] });
}, 120_000);
afterAll(() => steward?.close());

const viaProxy = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
  rawRequest(steward.url, {
    method: init.method ?? "GET",
    path: `/v1/users/${sub}/google/${path}`,
    headers: { authorization: `Bearer ${proxyKey}`, ...init.headers },
    body: init.method === "POST" ? "{}" : undefined,
  });

function expectRefused(answer: RawAnswer): void {
  expect(answer.status, answer.body).toBe(400);
  expect(jsonOf(answer)?.error?.code, answer.body).toBe("url_not_allowed");
  expect(answer.body).not.toContain(steward.google.defaultClient.clientSecret as string);
  expect(answer.body).not.toContain("1//");
}

describe("the proxy in emulator mode stays off the emulator's control API", () => {
  it("does not read the OAuth client's secret (GET .../google/emulator/clients)", async () => {
    expectRefused(await viaProxy("emulator/clients"));
  });

  it("does not read another user's refresh tokens (GET .../google/emulator/users/{other}/grants)", async () => {
    expectRefused(await viaProxy(`emulator/users/${other}/grants`));
  });

  it("does not inject faults (POST .../google/emulator/faults); Drive keeps answering", async () => {
    const injected = await viaProxy("emulator/faults", {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expectRefused(injected);
    const files = await viaProxy("drive/v3/files?spaces=appDataFolder");
    expect(files.status).toBe(200);
  });

  it("does not approve a consent on the emulator's accounts.google.com page", async () => {
    expectRefused(
      await viaProxy("o/oauth2/v2/auth/approve", {
        method: "POST",
        headers: { "content-type": "application/json" },
      }),
    );
  });

  it.each([
    ["a percent-encoded letter", "%65mulator/clients"],
    ["a fully percent-encoded segment", "%65%6d%75%6c%61%74%6f%72/clients"],
    ["an upper-case escape", "%45mulator/clients"],
    ["a doubled slash", "/emulator/clients"],
    ["a doubled slash after an API prefix", "drive/v3//../../emulator/clients"],
    ["plain dot segments", "drive/v3/../../emulator/clients"],
    ["encoded dot segments", "drive/v3/%2e%2e/%2E%2E/emulator/clients"],
    ["a different case", "Emulator/clients"],
    ["a trailing slash", "emulator/clients/"],
    ["a query string", "emulator/clients?x=1"],
    ["a semicolon", "emulator/clients;x=1"],
    ["an encoded slash", "emulator%2Fclients"],
  ])("does not reach the control API by %s (%s)", async (_name, path) => {
    expectRefused(await viaProxy(path));
  });

  it("does not reach the control API through another Google host (X-Google-Host)", async () => {
    expectRefused(
      await viaProxy("emulator/clients", { headers: { "x-google-host": "oauth2.googleapis.com" } }),
    );
  });

  it("does not follow an emulator redirect into its control API", async () => {
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files/redirected",
      status: 302,
      headers: { location: "/emulator/clients" },
    });
    try {
      expectRefused(await viaProxy("drive/v3/files/redirected"));
    } finally {
      await control(steward.google, "DELETE", "/emulator/faults");
    }
  });
});

describe("fetchAs (the library's and the jobs') stays off the emulator's control API", () => {
  it.each([
    ["a Google URL mapped to the emulator", "https://www.googleapis.com/emulator/clients"],
    ["an encoded Google URL", "https://www.googleapis.com/%65mulator/clients"],
    ["the emulator's own URL", "/emulator/clients"],
    ["the emulator's URL with dot segments", "/drive/v3/%2e%2e/%2e%2e/emulator/clients"],
  ])("refuses %s", async (_name, given) => {
    const url = given.startsWith("/") ? `${steward.google.url}${given}` : given;
    const endpoints = steward.service.endpoints;
    const answer = await fetchAs(
      steward.service.tokens,
      endpoints.isApiUrl,
      sub,
      atApiBase(endpoints, url),
    ).then(
      async (response) => `answered ${response.status}: ${await response.text()}`,
      (error: unknown) => error,
    );
    expect(isStewardError(answer, "url_not_allowed"), String(answer)).toBe(true);
  });

  it("still reaches the emulator's Drive", async () => {
    const endpoints = steward.service.endpoints;
    const response = await fetchAs(
      steward.service.tokens,
      endpoints.isApiUrl,
      sub,
      atApiBase(endpoints, "https://www.googleapis.com/drive/v3/files?spaces=appDataFolder"),
    );
    expect(response.status).toBe(200);
  });
});
