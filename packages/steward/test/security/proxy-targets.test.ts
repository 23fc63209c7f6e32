import { connect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchAs } from "../../src/access/fetch-as.js";
import { GOOGLE_ENDPOINTS } from "../../src/google/endpoints.js";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "../server/helpers.js";
import { ADMIN_TOKEN, type Canary, createKeys, rawRequest, startCanary } from "./support.js";

/**
 * The proxy (`/v1/users/{sub}/google/{path}`, and fetchAs under it) sends a user's access token
 * to Google API hosts only (the emulator in emulator mode). Every spelling of another target
 * below is aimed at the canary, a loopback server standing for the attacker: it must never be
 * reached. The emulator's own control routes are covered by the emulator-control suite.
 */
let steward: TestService;
let canary: Canary;
let proxyKey: string;
let sub: string;

beforeAll(async () => {
  steward = await startTestService({ STEWARD_ADMIN_TOKEN: ADMIN_TOKEN });
  canary = await startCanary();
  proxyKey = (await createKeys(steward)).proxy;
  const signedIn = await sdkSignIn(steward.google, {
    email: "proxy-targets@example.com",
    scopes: ["https://www.googleapis.com/auth/drive.appdata"],
  });
  expect((await postCode(steward.url, { code: signedIn.serverAuthCode })).status).toBe(200);
  sub = signedIn.sub;
}, 120_000);
afterEach(async () => {
  await control(steward.google, "DELETE", "/emulator/faults");
  // Nothing reached the attacker's host, with or without the user's token.
  expect(canary.requests).toEqual([]);
});
afterAll(async () => {
  await canary?.close();
  await steward?.close();
});

/** The proxy, asked for `apiPath` exactly as written (no client-side normalisation). */
function proxy(apiPath: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return rawRequest(steward.url, {
    method: init.method ?? "GET",
    path: `/v1/users/${sub}/google/${apiPath}`,
    headers: { authorization: `Bearer ${proxyKey}`, ...init.headers },
    body: init.method === "POST" ? "{}" : undefined,
  });
}

function expectUrlNotAllowed(answer: { status: number; body: string }, what: string): void {
  expect(answer.status, what).toBe(400);
  expect(JSON.parse(answer.body), what).toEqual({
    error: { code: "url_not_allowed", message: expect.any(String) },
  });
}

const emulatorRequests = async (): Promise<Record<string, number>> =>
  (await control(steward.google, "GET", "/emulator/stats")).body.requests;

describe("the proxy's targets", () => {
  it("refuses an X-Google-Host that is not a *.googleapis.com host: other hosts, IPs, ports, userinfo", async () => {
    const { port } = canary;
    const hosts = [
      "evil.example",
      "googleapis.com",
      "googleapis.com.evil.example",
      "www.googleapis.com.",
      "x.googleapis.com:8443",
      `127.0.0.1:${port}`,
      "127.0.0.1",
      "[::1]",
      `[::ffff:127.0.0.1]:${port}`,
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "evil@www.googleapis.com",
      `www.googleapis.com@127.0.0.1:${port}`,
      `www.googleapis.com:@127.0.0.1:${port}`,
      "www.googleapis.com/..",
      "www.googleapis.com%2f@evil.example",
      "www.googleapis.com\\evil.example",
    ];
    const before = await emulatorRequests();
    for (const host of hosts) {
      expectUrlNotAllowed(
        await proxy("drive/v3/files", { headers: { "x-google-host": host } }),
        host,
      );
    }
    expect(await emulatorRequests()).toEqual(before);
  });

  it("keeps another scheme, host or userinfo spelled in the API path a path on the Google base", async () => {
    const target = `127.0.0.1:${canary.port}`;
    const paths = [
      `http://${target}/x`,
      `https:%2F%2F${target}/x`,
      `//${target}/x`,
      `@${target}/x`,
      `evil:pw@${target}/x`,
      `[::1]:${canary.port}/x`,
      `2130706433:${canary.port}/x`,
      "file:///etc/passwd",
      "data:text/plain,hello",
      "javascript:alert(1)",
    ];
    for (const path of paths) {
      const answer = await proxy(path);
      // Either refused, or answered by the emulator (Google's 404 for an unknown API path).
      if (answer.status === 400) expectUrlNotAllowed(answer, path);
      else expect(JSON.parse(answer.body).error?.status, path).toBe("NOT_FOUND");
    }
  });

  it("refuses dot segments, plain, percent-encoded or mixed, and backslashes in the API path", async () => {
    const paths = [
      "drive/v3/../../oauth2/v2/userinfo",
      "drive/v3/files/./../../x",
      "drive/v3/files/%2e%2e/%2E%2E/gmail/v1/users/me/messages",
      "drive/v3/files/.%2e/x",
      "drive/v3/files/%2E./x",
      "drive/v3/files/%2e/x",
      "drive/v3/files/..",
      "drive/v3/files/%2e%2e?fields=id",
      "drive/v3/files/%5c..%5cx",
      "drive/v3/files/..\\..\\x",
      "drive/v3/files/x#/../../y",
    ];
    const before = await emulatorRequests();
    for (const path of paths) expectUrlNotAllowed(await proxy(path), path);
    expect(await emulatorRequests()).toEqual(before);
  });

  it("refuses a dot segment hidden by a tab or newline, which URL parsing would drop", async () => {
    // Node's own client will not send these bytes: written on the socket.
    for (const path of ["drive/v3/files/.\t./.\t./x", "drive/v3/files/.\n./x"]) {
      const status = await rawStatus(`GET /v1/users/${sub}/google/${path} HTTP/1.1`);
      expect(status, JSON.stringify(path)).toBeGreaterThanOrEqual(400);
      expect(status, JSON.stringify(path)).toBeLessThan(500);
    }
  });

  it("passes the API path on as sent: an encoded slash stays in its segment", async () => {
    await control(steward.google, "DELETE", "/emulator/stats");
    // A file id a backend encoded, which decoded would climb out of Drive into Gmail.
    const id = encodeURIComponent("../../gmail/v1/users/me/messages");
    await proxy(`drive/v3/files/${id}?fields=id`);
    const requests = Object.keys(await emulatorRequests());
    expect(requests).toContain(`/drive/v3/files/${id}`);
    expect(requests.some((path) => path.startsWith("/gmail"))).toBe(false);
  });

  it("reads an absolute-form request target's API path as the origin form's: its host is no part of it", async () => {
    await control(steward.google, "DELETE", "/emulator/stats");
    // `GET http://host/v1/...`, as HTTP/1.1 servers must accept; Fastify routes it by its path.
    for (const host of ["evil.example", `127.0.0.1:${canary.port}`]) {
      const answer = await rawRequest(steward.url, {
        method: "GET",
        path: `http://${host}/v1/users/${sub}/google/drive/v3/files?spaces=appDataFolder`,
        headers: { authorization: `Bearer ${proxyKey}` },
      });
      expect(answer.status, host).toBe(200);
      expect(JSON.parse(answer.body), host).toMatchObject({ files: [] });
    }
    expect(Object.keys(await emulatorRequests())).toEqual(["/drive/v3/files"]);
    const climbing = await rawRequest(steward.url, {
      method: "GET",
      path: `http://evil.example/v1/users/${sub}/google/drive/v3/%2e%2e/%2e%2e/oauth2/v2/userinfo`,
      headers: { authorization: `Bearer ${proxyKey}` },
    });
    expectUrlNotAllowed(climbing, "dot segments in absolute form");
  });

  it("does not follow a redirect off Google with the user's token, whatever its status or spelling", async () => {
    const { port } = canary;
    const emulator = new URL(steward.google.url);
    const locations = [
      `${canary.url}/x`,
      `//127.0.0.1:${port}/x`,
      `http://${emulator.host}@127.0.0.1:${port}/x`,
      `http://localhost:${port}/x`,
      `http://[::1]:${port}/x`,
      `http://2130706433:${port}/x`,
      "https://evil.example/x",
      "file:///etc/passwd",
      "data:text/plain,hello",
    ];
    for (const status of [301, 302, 303, 307, 308]) {
      for (const method of ["GET", "POST"]) {
        for (const location of locations) {
          await control(steward.google, "POST", "/emulator/faults", {
            path: "/drive/v3/files",
            status,
            headers: { location },
            times: 1,
          });
          const what = `${method} ${status} ${location}`;
          expectUrlNotAllowed(await proxy("drive/v3/files", { method }), what);
        }
      }
    }
  });

  it("does not follow a redirect that comes back to Google only to leave it", async () => {
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 302,
      headers: { location: `${steward.google.url}/drive/v3/about` },
      times: 1,
    });
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/drive/v3/about",
      status: 307,
      headers: { location: `${canary.url}/x` },
      times: 1,
    });
    expectUrlNotAllowed(await proxy("drive/v3/files"), "the second hop");
  });

  it("answers a redirect within Google that carries userinfo as not allowed, not as a fault", async () => {
    const emulator = new URL(steward.google.url);
    await control(steward.google, "POST", "/emulator/faults", {
      path: "/drive/v3/files",
      status: 302,
      headers: { location: `http://user:pw@${emulator.host}/drive/v3/about` },
      times: 1,
    });
    expectUrlNotAllowed(await proxy("drive/v3/files"), "userinfo");
  });
});

describe("fetchAs, under the proxy, the library and jobs", () => {
  it("refuses other schemes, hosts, IP spellings and userinfo before any token is sent", async () => {
    const { port } = canary;
    const emulator = new URL(steward.google.url);
    const { tokens, endpoints } = steward.service;
    const emulated = [
      `${canary.url}/x`,
      `http://localhost:${emulator.port}/drive/v3/files`,
      `http://[::1]:${emulator.port}/drive/v3/files`,
      `https://${emulator.host}/drive/v3/files`,
      `http://user:pw@${emulator.host}/drive/v3/files`,
      `http://${emulator.host}@127.0.0.1:${port}/x`,
      "file:///etc/passwd",
      "data:text/plain,hello",
      "not a url",
    ];
    for (const url of emulated) {
      await expect(fetchAs(tokens, endpoints.isApiUrl, sub, url), url).rejects.toMatchObject({
        code: "url_not_allowed",
      });
    }
    // Google's own allow-list, as a service configured for Google checks it (refused before
    // any connection, so nothing leaves the machine).
    const google = [
      "http://www.googleapis.com/drive/v3/files",
      "https://www.googleapis.com:8443/drive/v3/files",
      "https://www.googleapis.com.evil.example/x",
      "https://googleapis.com/x",
      "https://evil.example#.googleapis.com",
      "https://evil.example?.googleapis.com",
      "https://evil.example\\.googleapis.com/x",
      `https://www.googleapis.com@127.0.0.1:${port}/x`,
      "https://user:pw@www.googleapis.com/drive/v3/files",
      "https://[::1]/x",
      "https://2130706433/x",
      "https://0x7f000001/x",
      "ftp://www.googleapis.com/x",
      "file:///etc/passwd",
      "data:text/plain,hello",
    ];
    for (const url of google) {
      await expect(fetchAs(tokens, GOOGLE_ENDPOINTS.isApiUrl, sub, url), url).rejects.toMatchObject(
        { code: "url_not_allowed" },
      );
    }
  });
});

/** Writes `requestLine` on a socket as is and returns the status the service answered. */
function rawStatus(requestLine: string): Promise<number> {
  const { hostname, port } = new URL(steward.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `${requestLine}\r\nHost: ${hostname}\r\nAuthorization: Bearer ${proxyKey}\r\nConnection: close\r\n\r\n`,
      );
    });
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}
