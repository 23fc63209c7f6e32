import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyLine, Keyring } from "../../src/crypto/index.js";
import { openVault } from "../../src/vault/index.js";
import { startEmbeddedTestServer, type TestServer } from "../vault/support/databases.js";
import { seedCredentials } from "../vault/support/seed.js";
import { killRunningClis, startCli } from "./support/cli-process.js";

const k1Line = generateKeyLine("k1");
const k2Line = generateKeyLine("k2");
let server: TestServer;
beforeAll(async () => {
  server = await startEmbeddedTestServer();
});
afterAll(async () => {
  killRunningClis();
  await server?.close();
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!condition()) throw new Error(`no ${what} within 30 s`);
}

describe("steward keys rotate (its own process)", () => {
  it("interrupted by Ctrl-C, stops after its batch and exits 130, not 0", async () => {
    const databaseUrl = await server.createDatabase();
    const vault = await openVault({ databaseUrl, keyring: Keyring.parse(`${k2Line},${k1Line}`) });
    await seedCredentials(vault.database.db, Keyring.parse(k1Line), 5_000);
    await vault.close();
    const env = { ...process.env, DATABASE_URL: databaseUrl, STEWARD_KEYS: `${k2Line},${k1Line}` };

    // One credential per transaction, so that rotation is still running when the signal comes.
    const rotate = startCli(["keys", "rotate", "--batch-size", "1"], env);
    await until(() => rotate.output().stderr.includes("Re-sealing under k2"), "progress");
    rotate.child.kill("SIGINT");
    expect(await rotate.exited).toBe(130);
    const { stdout } = rotate.output();
    expect(stdout).toContain("Interrupted: run it again to continue.");
    expect(stdout).toMatch(/^k1 [1-9]\d*$/m);

    const again = startCli(["keys", "rotate"], env);
    expect(await again.exited).toBe(0);
    expect(again.output().stdout).toContain("k2 5000 active\nk1 0\n");
  }, 120_000);
});
