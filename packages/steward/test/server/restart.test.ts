// Regression: `npm start` ran its emulator in memory, so after a restart every user signed in
// before it held a refresh token the emulator no longer knew, and flipped to `revoked` on the
// next refresh. The in-process emulator now keeps its state in STEWARD_DATA_DIR.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Emulator } from "@steward/emulator";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startService } from "../../src/server/service.js";
import { refreshGrantsOf, signInThroughService, type TestService } from "./helpers.js";

const ADMIN_TOKEN = "admin-token-for-the-restart-test-0123456789";
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "steward-restart-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Starts the service on the one data dir, as `npm start` does each time. */
async function start(): Promise<TestService> {
  const config = loadConfig({
    STEWARD_DATA_DIR: dataDir,
    STEWARD_PORT: "0",
    STEWARD_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  const service = await startService(config, {
    logger: pino({ level: "silent" }),
    emulatorPort: 0,
    googleTimeoutSeconds: 2,
  });
  return {
    service,
    url: service.url,
    dataDir,
    google: service.emulator as Emulator,
    logs: () => "",
    close: () => service.close(),
  };
}

const call = (steward: TestService, path: string) =>
  fetch(`${steward.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

it("a user signed in before a restart is still active after it, and their next refresh works", async () => {
  const first = await start();
  let sub: string;
  try {
    expect(first.google.stateDir).toBe(join(dataDir, "emulator"));
    // Access tokens living 1 s: the next access after the restart refreshes at the emulator.
    sub = await signInThroughService(first, "restarted@example.com", { ttlSeconds: 1 });
  } finally {
    await first.close();
  }
  expect((await stat(join(dataDir, "emulator", "state.json"))).mode & 0o077).toBe(0);

  const second = await start();
  try {
    const token = await call(second, `/v1/users/${sub}/access-token`);
    expect(token.status).toBe(200);
    expect(await refreshGrantsOf(second, sub)).toBe(1);
    const user = await (await call(second, `/v1/users/${sub}`)).json();
    expect(user.credential).toMatchObject({ status: "active" });
    // And the emulator still knows the grant Steward holds: an admin revoke reaches it.
    const revoke = await fetch(`${second.url}/v1/users/${sub}/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(await revoke.json()).toEqual({ revokedAtGoogle: true });
  } finally {
    await second.close();
  }
}, 180_000);
