import type { Kysely } from "kysely";
import type { VaultSchema } from "../../../src/store/index.js";
import { type Database, migrate, openDatabase } from "../../../src/store/index.js";
import type { TestServer } from "../../vault/support/databases.js";

/** A fresh, migrated database; `connect()` opens another pool on it, as another instance would. */
export async function migratedDatabase(server: TestServer): Promise<{
  url: string;
  connect(): Promise<Database>;
}> {
  const url = await server.createDatabase();
  const first = await openDatabase({ databaseUrl: url, poolSize: 4 });
  try {
    await migrate(first.db);
  } finally {
    await first.close();
  }
  return { url, connect: () => openDatabase({ databaseUrl: url, poolSize: 4 }) };
}

/** The outbox rows, oldest first, for assertions. */
export function outboxRows(db: Kysely<VaultSchema>) {
  return db.selectFrom("webhook_outbox").selectAll().orderBy("id").execute();
}
