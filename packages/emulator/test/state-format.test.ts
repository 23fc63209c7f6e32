import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index.js";
import { postForm } from "./helpers.js";

/**
 * `fixtures/state-v1/state.json` was saved by the emulator before its state was split into
 * modules (clients, users, codes, grants, access tokens): a data dir kept from then must load,
 * and be saved again in the same shape.
 */
const FIXTURE = join(import.meta.dirname, "fixtures", "state-v1");
const SAVED_AT = Date.parse("2026-06-01T12:00:00.000Z");
const CLIENT = {
  clientId: "111111111111-fixture.apps.googleusercontent.com",
  clientSecret: "GOCSPX-fixture-secret-000000000000",
  redirectUris: ["http://127.0.0.1:5173/oauth2callback"],
  javascriptOrigins: ["http://127.0.0.1:5173"],
};

let dir: string;
let google: Emulator | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "steward-emulator-format-"));
  await cp(FIXTURE, dir, { recursive: true });
});
afterEach(async () => {
  await google?.close();
  google = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function savedState(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, "utf8")).parts.state;
}

describe("a state.json saved before the state was split", () => {
  it("loads, and is saved again unchanged", async () => {
    google = await startEmulator({
      port: 0,
      dataDir: dir,
      now: () => SAVED_AT + 60_000,
      defaultClient: CLIENT,
    });
    await google.close();
    google = undefined;
    expect(await savedState(join(dir, "state.json"))).toEqual(
      await savedState(join(FIXTURE, "state.json")),
    );
  });

  it("serves its users, tokens, revoked grant and pending code", async () => {
    google = await startEmulator({
      port: 0,
      dataDir: dir,
      now: () => SAVED_AT + 60_000,
      defaultClient: CLIENT,
    });
    const saved = JSON.parse(await readFile(join(FIXTURE, "state.json"), "utf8")).parts.state;
    const [adaRefresh, bobRefresh] = saved.refreshTokens.map(([token]: [string]) => token);
    const [adaAccess] = saved.accessTokens.map(([token]: [string]) => token);
    const [[code]] = saved.codes;
    const ada = google.state.findUser("ada@example.com");
    expect(ada?.hd).toBe("example.com");
    expect(google.state.settings.accessTokenTtlSeconds).toBe(1800);

    const info = await postForm(`${google.url}/tokeninfo`, { access_token: adaAccess });
    expect(info.status).toBe(200);
    expect(info.body.sub).toBe(ada?.sub);

    const secret = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    const refreshed = await postForm(`${google.url}/token`, {
      ...secret,
      grant_type: "refresh_token",
      refresh_token: adaRefresh,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.expires_in).toBe(1800);

    const revoked = await postForm(`${google.url}/token`, {
      ...secret,
      grant_type: "refresh_token",
      refresh_token: bobRefresh,
    });
    expect(revoked.body).toMatchObject({ error: "invalid_grant" });

    const exchanged = await postForm(`${google.url}/token`, {
      ...secret,
      grant_type: "authorization_code",
      code,
      redirect_uri: CLIENT.redirectUris[0] as string,
      code_verifier: "abc",
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.refresh_token).toMatch(/^1\/\/0/);
  });
});
