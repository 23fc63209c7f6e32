import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyLine, Keyring } from "../../src/crypto/index.js";
import { freeLoopbackPort } from "../../src/shared/index.js";
import { MIGRATION_NAMES, migrate, openDatabase } from "../../src/store/index.js";
import { openVault, type Vault } from "../../src/vault/index.js";
import { startEmbeddedTestServer, type TestServer } from "./support/databases.js";

const k1Line = generateKeyLine("k1");
const k1 = Keyring.parse(k1Line);
let server: TestServer;
beforeAll(async () => {
  server = await startEmbeddedTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function snapshot(vault: Vault): Promise<string> {
  const rows = await sql<{ t: string }>`
    SELECT concat_ws('|', (SELECT string_agg(c::text, ',' ORDER BY sub) FROM credentials c),
                          (SELECT string_agg(u::text, ',' ORDER BY sub) FROM users u),
                          (SELECT string_agg(m::text, ',' ORDER BY name) FROM steward_migration m)) AS t`.execute(
    vault.database.db,
  );
  return rows.rows[0]?.t ?? "";
}

describe("migrations", () => {
  it("create the tables once and change nothing when run again", async () => {
    const database = await openDatabase({ databaseUrl: await server.createDatabase() });
    try {
      expect(await migrate(database.db)).toEqual(MIGRATION_NAMES);
      expect(MIGRATION_NAMES[0]).toBe("0001_initial");
      expect(await migrate(database.db)).toEqual([]);
      const tables = await sql<{ name: string }>`
        SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`.execute(
        database.db,
      );
      expect(tables.rows.map((t) => t.name)).toEqual([
        "activity_hourly",
        "api_keys",
        "audit_events",
        "credentials",
        "risc_events",
        "steward_migration",
        "steward_migration_lock",
        "users",
        "webhook_outbox",
      ]);
    } finally {
      await database.close();
    }
  });

  it("are safe when several instances start at once", async () => {
    const databaseUrl = await server.createDatabase();
    const vaults = await Promise.all(
      Array.from({ length: 4 }, () => openVault({ databaseUrl, keyring: k1, poolSize: 2 })),
    );
    try {
      const applied = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM steward_migration`.execute(
        vaults[0]?.database.db as Vault["database"]["db"],
      );
      expect(applied.rows[0]?.n).toBe(MIGRATION_NAMES.length);
      // With DATABASE_URL set, no embedded PostgreSQL is started, and the password is not shown.
      expect(vaults[0]?.database.embedded).toBeUndefined();
      expect(vaults[0]?.database.description).toMatch(
        /^DATABASE_URL \(postgres:\/\/127\.0\.0\.1:\d+\/steward_t_[0-9a-f]+\)$/,
      );
      await vaults[1]?.store.upsertUser({ sub: "1" });
      expect(await vaults[3]?.store.getUser("1")).toBeDefined();
    } finally {
      await Promise.all(vaults.map((vault) => vault.close()));
    }
  });
});

describe("start-up with a keyring that lacks a stored kid", () => {
  it("refuses, names the kid, and changes nothing", async () => {
    const databaseUrl = await server.createDatabase();
    const first = await openVault({ databaseUrl, keyring: k1 });
    await first.store.upsertUser({ sub: "42" });
    await first.store.saveCredential({
      sub: "42",
      refreshToken: "1//sealed-by-k1",
      grantedScopes: ["openid"],
      accessToken: { token: "ya29.k1", expiresAt: new Date(Date.now() + 60_000) },
    });
    const before = await snapshot(first);
    await first.close();

    const attempt = openVault({ databaseUrl, keyring: Keyring.parse(generateKeyLine("k2")) });
    await expect(attempt).rejects.toMatchObject({
      code: "key_missing",
      message: expect.stringContaining("'k1' (1 credentials)"),
    });

    const after = await openVault({ databaseUrl, keyring: k1 });
    try {
      expect(await snapshot(after)).toBe(before);
      expect((await after.store.getCredential("42"))?.refreshToken).toBe("1//sealed-by-k1");
    } finally {
      await after.close();
    }
  });

  it("accepts the ring once the old key is back behind the new one", async () => {
    const databaseUrl = await server.createDatabase();
    const first = await openVault({ databaseUrl, keyring: k1 });
    await first.store.upsertUser({ sub: "7" });
    await first.store.saveCredential({ sub: "7", refreshToken: "1//seven", grantedScopes: [] });
    await first.close();
    const both = await openVault({
      databaseUrl,
      keyring: Keyring.parse(`${generateKeyLine("k2")},${k1Line}`),
    });
    try {
      expect((await both.store.getCredential("7"))?.refreshToken).toBe("1//seven");
    } finally {
      await both.close();
    }
  });
});

describe("an unreachable DATABASE_URL", () => {
  it("stops start-up naming DATABASE_URL, without its password", async () => {
    const port = await freeLoopbackPort();
    const attempt = openVault({
      databaseUrl: `postgres://steward:pa55-w0rd-x@127.0.0.1:${port}/steward`,
      keyring: k1,
    });
    await expect(attempt).rejects.toMatchObject({
      code: "database_unavailable",
      message: expect.stringContaining(`DATABASE_URL (postgres://127.0.0.1:${port}/steward)`),
    });
    await expect(attempt).rejects.toSatisfy(
      (error: Error) => !error.message.includes("pa55-w0rd-x"),
    );
  });
});
