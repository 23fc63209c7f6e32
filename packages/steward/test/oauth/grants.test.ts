import type { Emulator } from "@steward/emulator";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  authorizationCodeGrant,
  refreshTokenGrant,
  tokenRevocation,
} from "../../src/oauth/grants.js";
import { control, sdkSignIn, withEmulator } from "../emulator/helpers.js";
import { failure, oauthClientOf } from "./support.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
let google: Emulator;

beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());
beforeEach(async () => {
  await control(google, "DELETE", "/emulator/faults");
  await control(google, "DELETE", "/emulator/stats");
});

const client = (secret?: string) => oauthClientOf(google, secret);

const code = async (email: string) =>
  (await sdkSignIn(google, { email, scopes: [APPDATA] })).serverAuthCode;

describe("authorizationCodeGrant", () => {
  it("redeems a serverAuthCode into tokens with the granted scopes", async () => {
    const tokens = await authorizationCodeGrant(client(), await code("ex@example.com"), "");
    expect(tokens.accessToken).toMatch(/^ya29\./);
    expect(tokens.refreshToken).toMatch(/^1\/\//);
    expect(tokens.idToken).toBeDefined();
    expect(tokens.scopes).toContain(APPDATA);
    expect(tokens.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it("classifies Google's refusals", async () => {
    const used = await code("used@example.com");
    await authorizationCodeGrant(client(), used, "");
    expect((await failure(authorizationCodeGrant(client(), used, ""))).code).toBe("invalid_grant");
    expect(
      (
        await failure(
          authorizationCodeGrant(client(), await code("r@example.com"), "https://x.example/cb"),
        )
      ).code,
    ).toBe("redirect_uri_mismatch");
    const rejected = await failure(
      authorizationCodeGrant(client("GOCSPX-wrong"), await code("c@example.com"), ""),
    );
    expect(rejected).toMatchObject({ code: "client_rejected", status: 500 });
    expect(rejected.message).not.toContain("GOCSPX");
  });

  it.each([
    ["a 500", { status: 500, body: { error: "internal_failure" } }],
    ["a 503 with an HTML body", { status: 503, body: "<html>down</html>" }],
    ["a dropped connection", { reset: true }],
    ["a hang past the timeout", { latencyMs: 2500 }],
  ])("answers %s with upstream_unavailable, and never retries the code", async (_case, fault) => {
    await control(google, "POST", "/emulator/faults", { path: "/token", ...fault });
    const error = await failure(
      authorizationCodeGrant(client(), await code("down@example.com"), ""),
    );
    expect(error).toMatchObject({ code: "upstream_unavailable", status: 502 });
    expect((await control(google, "GET", "/emulator/stats")).body.requests["/token"]).toBe(1);
  });
  it("answers a 200 no client could use with upstream_unavailable, echoing none of it", async () => {
    await control(google, "POST", "/emulator/faults", {
      path: "/token",
      status: 200,
      body: { access_token: "ya29.SECRET", refresh_token: "1//SECRET", token_type: "mac" },
    });
    const error = await failure(authorizationCodeGrant(client(), "4/0unused", ""));
    expect(error).toMatchObject({ code: "upstream_unavailable", status: 502 });
    expect(error.detail).toBe("code exchange: Google answered 200: token_type is not Bearer");
    expect(`${error.message} ${error.detail} ${String(error.cause)}`).not.toContain("SECRET");
  });
});

describe("refreshTokenGrant and tokenRevocation", () => {
  it("refreshes, then after a revocation answers invalid_grant; revoking twice is not an error", async () => {
    const { refreshToken } = await authorizationCodeGrant(
      client(),
      await code("rf@example.com"),
      "",
    );
    const refreshed = await refreshTokenGrant(client(), refreshToken as string);
    expect(refreshed.refreshToken).toBeUndefined();
    expect(refreshed.scopes).toContain(APPDATA);
    expect(await tokenRevocation(client(), refreshToken as string)).toBe(true);
    expect((await failure(refreshTokenGrant(client(), refreshToken as string))).code).toBe(
      "invalid_grant",
    );
    expect(await tokenRevocation(client(), refreshToken as string)).toBe(false);
  });

  it("answers a 5xx on refresh with upstream_unavailable", async () => {
    const { refreshToken } = await authorizationCodeGrant(
      client(),
      await code("rf5@example.com"),
      "",
    );
    await control(google, "POST", "/emulator/faults", { path: "/token", status: 503 });
    expect((await failure(refreshTokenGrant(client(), refreshToken as string))).code).toBe(
      "upstream_unavailable",
    );
  });
});
