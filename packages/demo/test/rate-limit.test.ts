// Each browser has its own sign-in budget on the demo: one client spending its own does not
// lock every other visitor out (the demo's backend once relayed every code from one address).
import { request } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sdkSignIn } from "../../steward/test/emulator/helpers.js";
import { PHOTOS_READ_SCOPE } from "../src/features.js";
import { startDemoService, type TestService } from "./support/demo-service.js";

let steward: TestService;
beforeAll(async () => {
  steward = await startDemoService({}, { rateLimitPerMinute: 3 });
}, 120_000);
afterAll(() => steward?.close());

/** POST /demo/api/session from a given loopback address (Linux routes all of 127/8 to lo). */
function signInFrom(address: string, code: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${steward.url}/demo/api/session`);
  const payload = JSON.stringify({ code });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        localAddress: address,
        headers: {
          "x-requested-with": "XMLHttpRequest",
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

it("counts each client's sign-ins on its own", async () => {
  for (let i = 0; i < 3; i++) {
    expect((await signInFrom("127.0.0.2", `junk-${i}`)).status).toBe(400);
  }
  expect((await signInFrom("127.0.0.2", "junk-more")).status).toBe(429);
  const { serverAuthCode } = await sdkSignIn(steward.google, {
    email: "own-budget@example.com",
    scopes: ["openid", "email", PHOTOS_READ_SCOPE],
  });
  const other = await signInFrom("127.0.0.3", serverAuthCode);
  expect(other.status, other.body).toBe(200);
  expect(JSON.parse(other.body).offlineAccess).toBe(true);
});
