import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { sdkSignIn, withEmulator } from "./helpers.js";

// Every route the emulator serves (fault injection and settings are left out: a random but
// valid body there would reprogram the emulator under the test's feet; their schemas have tests).
const PATHS = [
  "/token",
  "/oauth2/v4/token",
  "/revoke",
  "/tokeninfo",
  "/oauth2/v3/userinfo",
  "/v1/userinfo",
  "/oauth2/v3/certs",
  "/oauth2/v1/certs",
  "/.well-known/openid-configuration",
  "/o/oauth2/v2/auth",
  "/o/oauth2/v2/auth/approve",
  "/emulator/clients",
  "/emulator/users",
  "/emulator/sign-in",
  "/emulator/users/123/grants",
  "/emulator/users/123/revoke",
  "/emulator/stats",
  "/drive/v3/files",
  "/drive/v3/files/appDataFolder",
  "/upload/drive/v3/files",
  "/v1/albums",
  "/v1/uploads",
  "/v1/mediaItems:batchCreate",
  "/v1/mediaItems:search",
  "/discovery/v1/apis/drive/v3/rest",
];

const CONTENT_TYPES = [
  "application/x-www-form-urlencoded",
  "application/json",
  "text/plain",
  "application/octet-stream",
  "multipart/related; boundary=xyz",
  "multipart/related",
  "image/png",
  "application/json; charset=latin1",
];

let google: Emulator;
let accessToken: string;

beforeAll(async () => {
  google = await withEmulator();
  const { serverAuthCode } = await sdkSignIn(google, {
    email: "fuzz@example.com",
    scopes: [
      "https://www.googleapis.com/auth/drive.appdata",
      "https://www.googleapis.com/auth/photoslibrary.appendonly",
    ],
  });
  const response = await fetch(`${google.url}/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: serverAuthCode,
      client_id: google.defaultClient.clientId,
      client_secret: google.defaultClient.clientSecret as string,
    }),
  });
  accessToken = (await response.json()).access_token;
});
afterAll(() => google.close());

describe("emulator under arbitrary input", () => {
  it("answers every request with a status below 500 and a body, and never drops the connection", async () => {
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
      path: fc.constantFrom(...PATHS),
      suffix: fc.oneof(
        fc.constant(""),
        fc.webSegment().map((segment) => `/${segment}`),
      ),
      query: fc.oneof(
        fc.constant(""),
        fc
          .dictionary(
            fc.constantFrom(
              "alt",
              "token",
              "id_token",
              "pageSize",
              "uploadType",
              "q",
              "spaces",
              "fields",
            ),
            fc.string(),
          )
          .map((params) => `?${new URLSearchParams(params)}`),
      ),
      contentType: fc.constantFrom(...CONTENT_TYPES),
      body: fc.oneof(
        fc.string(),
        fc.json(),
        fc
          .dictionary(
            fc.constantFrom("grant_type", "code", "client_id", "refresh_token", "token"),
            fc.string(),
          )
          .map((form) => new URLSearchParams(form).toString()),
        fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
      ),
      authorized: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const hasBody = input.method !== "GET";
        const response = await fetch(`${google.url}${input.path}${input.suffix}${input.query}`, {
          method: input.method,
          headers: {
            ...(hasBody ? { "content-type": input.contentType } : {}),
            ...(input.authorized ? { authorization: `Bearer ${accessToken}` } : {}),
          },
          body: hasBody ? input.body : undefined,
        });
        const text = await response.text();
        expect(
          response.status,
          `${input.method} ${input.path}${input.suffix}: ${text.slice(0, 200)}`,
        ).toBeLessThan(500);
        if (response.status >= 400) expect(text.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
    // 400 runs over HTTP: seconds on a quiet machine, more with the suite's other files beside it.
  }, 120_000);
});
