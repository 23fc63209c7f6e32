import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysCommand } from "../../src/cli/keys.js";
import { generateKeyLine, Keyring } from "../../src/crypto/index.js";
import { startEmbeddedPostgres } from "../../src/embedded-postgres/index.js";
import { openVault } from "../../src/vault/index.js";
import { removeDataDir, startEmbeddedTestServer, type TestServer } from "./support/databases.js";
import { seedCredentials, seededSub } from "./support/seed.js";

const k1Line = generateKeyLine("k1");
const k2Line = generateKeyLine("k2");
let server: TestServer;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startEmbeddedTestServer();
});
afterAll(async () => {
  await server?.close();
  for (const dir of dirs) await removeDataDir(dir);
});

/** Runs `steward keys <args>` in this process with the given environment. */
async function steward(args: string[], env: Record<string, string | undefined>) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const command = keysCommand({
    env,
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
  });
  let error: unknown;
  try {
    await command.parseAsync(args, { from: "user" });
  } catch (caught) {
    error = caught;
  }
  return { stdout, stderr, error: error as { code?: string; message: string } | undefined };
}

async function databaseWith(counts: { k1?: number; k2?: number }): Promise<string> {
  const databaseUrl = await server.createDatabase();
  const vault = await openVault({ databaseUrl, keyring: Keyring.parse(`${k2Line},${k1Line}`) });
  await seedCredentials(vault.database.db, Keyring.parse(k1Line), counts.k1 ?? 0);
  await seedCredentials(vault.database.db, Keyring.parse(k2Line), counts.k2 ?? 0, {
    from: 100_000,
  });
  await vault.close();
  return databaseUrl;
}

describe("steward keys generate", () => {
  it("prints one key line that STEWARD_KEYS accepts", async () => {
    const { stdout, stderr } = await steward(["generate"], {});
    expect(stdout).toMatch(/^k\d{8}-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=\n$/);
    expect(Keyring.parse(stdout.trim()).kids).toHaveLength(1);
    // Two phases: every instance holds the new key before any seals with it, then rotate.
    const steps = ["STEWARD_KEYS=OLD,NEW", "STEWARD_KEYS=NEW,OLD", "`steward keys rotate`"];
    const at = steps.map((step) => stderr.indexOf(step));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(stderr).toContain("shows 0 for its kid");
    expect((await steward(["generate", "--kid", "k9"], {})).stdout.startsWith("k9:")).toBe(true);
  });
});

describe("steward keys status", () => {
  it("prints one line per kid of the ring, zero counts included, then stored kids it lacks", async () => {
    const databaseUrl = await databaseWith({ k1: 3, k2: 5 });
    const k0Line = generateKeyLine("k0");
    const full = await steward(["status"], {
      DATABASE_URL: databaseUrl,
      STEWARD_KEYS: `${k2Line},${k1Line},${k0Line}`,
    });
    expect(full.error).toBeUndefined();
    expect(full.stdout.trim().split("\n")).toEqual(["k2 5 active", "k1 3", "k0 0"]);
    const partial = await steward(["status"], { DATABASE_URL: databaseUrl, STEWARD_KEYS: k2Line });
    expect(partial.stdout.trim().split("\n")).toEqual([
      "k2 5 active",
      "k1 3 missing from STEWARD_KEYS",
    ]);
  });

  it("refuses a malformed STEWARD_KEYS naming the variable, not the key", async () => {
    const bad = `k1:${Buffer.alloc(16, 7).toString("base64")}`;
    const { error } = await steward(["status"], {
      DATABASE_URL: await server.createDatabase(),
      STEWARD_KEYS: bad,
    });
    expect(error).toMatchObject({
      code: "keys_invalid",
      message: expect.stringContaining("STEWARD_KEYS entry 1"),
    });
    expect(error?.message).not.toContain(bad.slice(3));
  });

  it("on the embedded default, attaches to the Steward that runs it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "steward-cli-"));
    dirs.push(dataDir);
    const running = await openVault({
      dataDir,
      keyring: Keyring.parse(k1Line),
      handleSignals: false,
    });
    try {
      await running.store.upsertUser({ sub: "9" });
      await running.store.saveCredential({ sub: "9", refreshToken: "1//nine", grantedScopes: [] });
      const { stdout, error } = await steward(["status"], {
        STEWARD_DATA_DIR: dataDir,
        STEWARD_KEYS: k1Line,
      });
      expect(error).toBeUndefined();
      expect(stdout).toBe("k1 1 active\n");
      expect((await running.store.getCredential("9"))?.refreshToken).toBe("1//nine"); // still up
    } finally {
      await running.close();
    }
  });

  it("on a data dir without a cluster, says so instead of creating one", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "steward-cli-"));
    dirs.push(dataDir);
    const { error } = await steward(["status"], {
      STEWARD_DATA_DIR: dataDir,
      STEWARD_KEYS: k1Line,
    });
    expect(error).toMatchObject({
      code: "database_unavailable",
      message: expect.stringContaining("no embedded database"),
    });
  });
});

describe("steward keys rotate", () => {
  it("re-seals everything under the active key with progress, a summary and the new status", async () => {
    const databaseUrl = await databaseWith({ k1: 2_300, k2: 40 });
    const { stdout, stderr, error } = await steward(["rotate", "--batch-size", "500"], {
      DATABASE_URL: databaseUrl,
      STEWARD_KEYS: `${k2Line},${k1Line}`,
    });
    expect(error).toBeUndefined();
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^Re-sealed 2300 of 2300 credentials under k2 in \d+\.\d s \(\d+\/s\); 0 failed\.$/,
    );
    expect(lines.slice(1)).toEqual(["k2 2340 active", "k1 0"]);
    expect(stderr).toMatch(/Re-sealing under k2 .*\| 2300\/2300 \|/);
    const again = await steward(["rotate"], {
      DATABASE_URL: databaseUrl,
      STEWARD_KEYS: `${k2Line},${k1Line}`,
    });
    expect(again.stdout.split("\n")[0]).toBe("Every credential is already sealed with k2.");
  });

  it("refuses to start when the ring lacks a stored kid, changing nothing", async () => {
    const databaseUrl = await databaseWith({ k1: 4 });
    const { error, stdout } = await steward(["rotate"], {
      DATABASE_URL: databaseUrl,
      STEWARD_KEYS: k2Line,
    });
    expect(error).toMatchObject({
      code: "key_missing",
      message: expect.stringContaining("'k1' (4 credentials)"),
    });
    expect(stdout).toBe("");
    expect(
      (
        await steward(["status"], {
          DATABASE_URL: databaseUrl,
          STEWARD_KEYS: `${k2Line},${k1Line}`,
        })
      ).stdout,
    ).toBe("k2 0 active\nk1 4\n");
  });

  it("re-seals the others, then fails naming the credential that does not open", async () => {
    const databaseUrl = await databaseWith({ k1: 30 });
    const vault = await openVault({ databaseUrl, keyring: Keyring.parse(`${k2Line},${k1Line}`) });
    try {
      await sql`UPDATE credentials SET refresh_token = set_byte(refresh_token, 40, get_byte(refresh_token, 40) # 1)
        WHERE sub = ${seededSub(5)}`.execute(vault.database.db);
    } finally {
      await vault.close();
    }
    const { stdout, stderr, error } = await steward(["rotate"], {
      DATABASE_URL: databaseUrl,
      STEWARD_KEYS: `${k2Line},${k1Line}`,
    });
    expect(error).toMatchObject({
      code: "credential_corrupt",
      message: expect.stringContaining(seededSub(5)),
    });
    expect(stdout).toContain("Re-sealed 29 of 30 credentials under k2");
    expect(stdout).toContain("k1 1\n");
    const logged = stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    expect(logged).toContainEqual(
      expect.objectContaining({ code: "credential_corrupt", sub: seededSub(5), kid: "k1" }),
    );
  });

  it("starts the embedded PostgreSQL itself when no Steward runs, and stops it after", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "steward-cli-"));
    dirs.push(dataDir);
    const first = await openVault({
      dataDir,
      keyring: Keyring.parse(k1Line),
      handleSignals: false,
    });
    await first.store.upsertUser({ sub: "1" });
    await first.store.saveCredential({ sub: "1", refreshToken: "1//one", grantedScopes: [] });
    await first.close();
    const { stdout, error } = await steward(["rotate"], {
      STEWARD_DATA_DIR: dataDir,
      STEWARD_KEYS: `${k2Line},${k1Line}`,
    });
    expect(error).toBeUndefined();
    expect(stdout).toContain("k2 1 active\nk1 0\n");
    // It let go of the data dir: a Steward can start there now.
    const next = await startEmbeddedPostgres({ dataDir, handleSignals: false });
    await next.stop();
  });
});
