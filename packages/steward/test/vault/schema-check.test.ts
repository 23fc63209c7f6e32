// Commands beside a service open the vault without migrating: pointed at a database with no
// Steward schema (a wrong DATABASE_URL), they refuse and create nothing there.
import { sql } from "kysely";
import { expect, it } from "vitest";
import { openDatabase } from "../../src/store/index.js";
import { openVault } from "../../src/vault/index.js";
import { freshVaults } from "./support/fresh-vaults.js";

const vaults = freshVaults();
const { keyring } = vaults;

async function tablesOf(databaseUrl: string): Promise<string[]> {
  const database = await openDatabase({ databaseUrl });
  try {
    const { rows } = await sql<{ name: string }>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' ORDER BY 1`.execute(database.db);
    return rows.map((row) => row.name);
  } finally {
    await database.close();
  }
}

it("refuses a database without Steward's schema when told not to migrate, and changes nothing", async () => {
  const databaseUrl = await vaults.databaseUrl();
  await expect(openVault({ databaseUrl, keyring, migrate: false })).rejects.toMatchObject({
    code: "database_unavailable",
    message: expect.stringContaining("run the service on it first"),
  });
  expect(await tablesOf(databaseUrl)).toEqual([]);
  // Once the service has migrated it, the same open works.
  await (await openVault({ databaseUrl, keyring })).close();
  const vault = await openVault({ databaseUrl, keyring, migrate: false });
  await vault.store.upsertUser({ sub: "beside-the-service" });
  await vault.close();
});
