import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index.js";
import { control, exchangeCode, postForm, sdkSignIn, withEmulator } from "./helpers.js";

const DAY = 86_400;

function refresh(emulator: Emulator, refreshToken: string) {
  return postForm(`${emulator.url}/token`, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: emulator.defaultClient.clientId,
    client_secret: emulator.defaultClient.clientSecret as string,
  });
}

async function signInWithRefreshToken(emulator: Emulator, email: string): Promise<string> {
  const { serverAuthCode } = await sdkSignIn(emulator, { email, prompt: "consent" });
  const { status, body } = await exchangeCode(emulator, serverAuthCode);
  expect(status).toBe(200);
  expect(body.refresh_token).toMatch(/^1\/\/0/);
  return body.refresh_token;
}

describe("emulator: Google's documented refresh token expiries", () => {
  let google: Emulator;
  beforeAll(async () => {
    google = await withEmulator();
  });
  afterAll(async () => {
    await google.close();
  });

  it("expires a refresh token unused for six months, and a refresh restarts that count", async () => {
    const idle = await signInWithRefreshToken(google, "idle@example.com");
    const used = await signInWithRefreshToken(google, "used@example.com");
    await control(google, "POST", "/emulator/clock", { advanceSeconds: 150 * DAY });
    expect((await refresh(google, used)).status).toBe(200);
    const moved = await control(google, "POST", "/emulator/clock", { advanceSeconds: 40 * DAY });
    expect(moved.status).toBe(200);
    expect(moved.body.clockOffsetSeconds).toBe(190 * DAY);

    const dead = await refresh(google, idle);
    expect(dead.status).toBe(400);
    expect(dead.body).toEqual({
      error: "invalid_grant",
      error_description: "Token has been expired or revoked.",
    });
    // Used 40 days ago: alive.
    expect((await refresh(google, used)).status).toBe(200);
  });

  it("ends a Testing-mode app's refresh tokens seven days after issue, however used", async () => {
    await control(google, "PUT", "/emulator/settings", { publishingStatus: "testing" });
    try {
      const token = await signInWithRefreshToken(google, "tester@example.com");
      await control(google, "POST", "/emulator/clock", { advanceSeconds: 6 * DAY });
      expect((await refresh(google, token)).status).toBe(200);
      await control(google, "POST", "/emulator/clock", { advanceSeconds: DAY });
      const dead = await refresh(google, token);
      expect(dead.status).toBe(400);
      expect(dead.body.error).toBe("invalid_grant");
    } finally {
      await control(google, "PUT", "/emulator/settings", { publishingStatus: "production" });
    }
    // In production the same wait does nothing.
    const token = await signInWithRefreshToken(google, "published@example.com");
    await control(google, "POST", "/emulator/clock", { advanceSeconds: 8 * DAY });
    expect((await refresh(google, token)).status).toBe(200);
  });

  it("takes a per-client publishing status", async () => {
    const created = await control(google, "POST", "/emulator/clients", {
      type: "web",
      publishingStatus: "testing",
    });
    expect(created.status).toBe(201);
    expect(created.body.publishingStatus).toBe("testing");
    const refused = await control(google, "POST", "/emulator/clients", {
      type: "web",
      publishingStatus: "draft",
    });
    expect(refused.status).toBe(400);
  });

  it("keeps the newest 100 refresh tokens per account and client: the 101st kills the oldest", async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 101; i += 1) {
      tokens.push(await signInWithRefreshToken(google, "hundred@example.com"));
    }
    expect((await refresh(google, tokens[0] as string)).body.error).toBe("invalid_grant");
    expect((await refresh(google, tokens[1] as string)).status).toBe(200);
    expect((await refresh(google, tokens[100] as string)).status).toBe(200);
  });

  it("never moves the clock back", async () => {
    const back = await control(google, "POST", "/emulator/clock", { advanceSeconds: -1 });
    expect(back.status).toBe(400);
  });
});

describe("emulator: expiry state across a restart", () => {
  it("keeps the clock, the publishing status and each token's last use", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "steward-emu-expiry-"));
    try {
      const before = await startEmulator({ port: 0, dataDir });
      await control(before, "PUT", "/emulator/settings", { publishingStatus: "testing" });
      const token = await signInWithRefreshToken(before, "restart@example.com");
      await control(before, "POST", "/emulator/clock", { advanceSeconds: 3 * DAY });
      await before.close();

      const after = await startEmulator({ port: 0, dataDir });
      try {
        const clock = await control(after, "GET", "/emulator/clock");
        expect(clock.body.clockOffsetSeconds).toBe(3 * DAY);
        expect((await refresh(after, token)).status).toBe(200);
        await control(after, "POST", "/emulator/clock", { advanceSeconds: 4 * DAY });
        expect((await refresh(after, token)).body.error).toBe("invalid_grant");
      } finally {
        await after.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
