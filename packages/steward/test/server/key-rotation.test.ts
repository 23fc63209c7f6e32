import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { control, sdkSignIn } from "../emulator/helpers.js";
import { postCode, startTestService, type TestService } from "./helpers.js";

let steward: TestService;

beforeAll(async () => {
  steward = await startTestService();
}, 120_000);
afterAll(() => steward?.close());

const certsFetches = async () =>
  (await control(steward.google, "GET", "/emulator/stats")).body.requests["/oauth2/v3/certs"] ?? 0;

describe("Google key rotation at Steward", () => {
  it("signs in between a rotation and the next certificate refresh, from the keys it cached", async () => {
    const first = await sdkSignIn(steward.google, { email: "before-rotation@example.com" });
    expect((await postCode(steward.url, { code: first.serverAuthCode })).status).toBe(200);
    // The emulator's Cache-Control max-age (6 hours by default) keeps Steward's keys fresh.
    await control(steward.google, "POST", "/emulator/keys/rotate");
    await control(steward.google, "DELETE", "/emulator/stats");

    const second = await sdkSignIn(steward.google, { email: "after-rotation@example.com" });
    const { status, body } = await postCode(steward.url, { code: second.serverAuthCode });
    expect(status).toBe(200);
    expect(body.user.sub).toBe(second.sub);
    expect(await certsFetches()).toBe(0);
  });
});
