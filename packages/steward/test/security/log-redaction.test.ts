import { Writable } from "node:stream";
import { startEmulator } from "@steward/emulator";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeys } from "../../src/api-keys/api-keys.js";
import { sdkSignIn } from "../emulator/helpers.js";
import { signInThroughService, startTestService, type TestService } from "../server/helpers.js";
import { rawRequest } from "./support/raw-request.js";

// Request lines logged the URL whole, query string included: a live access token
// (`.../oauth2/v3/tokeninfo?access_token=...`) and a sign-in code (`/oauth2callback?code=...`)
// were in the log. Logged URLs keep the query's keys and redact every value.

const ADMIN_TOKEN = "admin-token-for-log-redaction-0123456789";
const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let steward: TestService;
let proxyKey: string;
let sub: string;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  proxyKey = (await new ApiKeys(steward.service.vault.database.db).create("proxy", ["proxy"])).key;
  sub = await signInThroughService(steward, "logged@example.com", { scopes: [APPDATA] });
}, 120_000);
afterAll(() => steward?.close());

/** What the service logged while `act` ran. */
async function loggedDuring(act: () => Promise<unknown>): Promise<string> {
  const before = steward.logs().length;
  await act();
  return steward.logs().slice(before);
}

async function accessToken(): Promise<string> {
  const response = await fetch(`${steward.url}/v1/users/${sub}/access-token`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return (await response.json()).accessToken;
}

describe("the service's request lines", () => {
  it("hold no access token sent to tokeninfo through the proxy", async () => {
    const token = await accessToken();
    let status = 0;
    const logged = await loggedDuring(async () => {
      ({ status } = await rawRequest(steward.url, {
        path: `/v1/users/${sub}/google/oauth2/v3/tokeninfo?access_token=${token}`,
        headers: { authorization: `Bearer ${proxyKey}` },
      }));
    });
    expect(status).toBe(200);
    expect(logged).toContain("tokeninfo?access_token=[redacted]");
    expect(logged).not.toContain(token);
  });

  it("hold no sign-in code sent to /oauth2callback", async () => {
    const { serverAuthCode } = await sdkSignIn(steward.google, { email: "callback@example.com" });
    const logged = await loggedDuring(() =>
      rawRequest(steward.url, { path: `/oauth2callback?code=${serverAuthCode}&state=s1` }),
    );
    expect(logged).toContain("/oauth2callback?code=[redacted]&state=[redacted]");
    expect(logged).not.toContain(serverAuthCode);
  });

  it("hold no query value of a refused request, nor a value sent without a key", async () => {
    const logged = await loggedDuring(async () => {
      await rawRequest(steward.url, {
        path: "/v1/users?after=cursor-secret-1&ya29.bare-secret-2",
        headers: { authorization: "Bearer stw_wrong" },
      });
    });
    expect(logged).toContain("request refused");
    expect(logged).not.toContain("secret-1");
    expect(logged).not.toContain("secret-2");
  });

  it("hold no query value of a request the router refuses (a badly encoded path)", async () => {
    const logged = await loggedDuring(() =>
      rawRequest(steward.url, { path: "/v1/users/%ff?access_token=ya29.router-secret" }),
    );
    expect(logged).toContain("request refused");
    expect(logged).not.toContain("router-secret");
  });
});

describe("the emulator's request lines", () => {
  it("hold no access token sent to its tokeninfo, nor a code sent to its token endpoint", async () => {
    let written = "";
    const sink = new Writable({
      write(chunk, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const google = await startEmulator({ port: 0, logger: pino({ level: "info" }, sink) });
    try {
      const { serverAuthCode } = await sdkSignIn(google, { email: "emulated@example.com" });
      await fetch(`${google.url}/oauth2/v3/tokeninfo?access_token=ya29.emulator-secret`);
      await fetch(`${google.url}/token?code=${encodeURIComponent(serverAuthCode)}`, {
        method: "POST",
      });
      expect(written).toContain("/oauth2/v3/tokeninfo?access_token=[redacted]");
      expect(written).not.toContain("emulator-secret");
      expect(written).not.toContain(serverAuthCode);
      expect(written).not.toContain(encodeURIComponent(serverAuthCode));
    } finally {
      await google.close();
    }
  });
});
