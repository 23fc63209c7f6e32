// Vaults on fresh databases of one embedded test server, for the tests of one file: each test
// gets databases of its own, and what it opened is closed after it.
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll } from "vitest";
import { generateKeyLine, Keyring } from "../../../src/crypto/index.js";
import { openVault, type Vault } from "../../../src/vault/index.js";
import { startEmbeddedTestServer, type TestServer } from "./databases.js";
import { seedCredentials } from "./seed.js";

/** Call at a test file's top level: it registers the hooks that start and stop the server. */
export function freshVaults() {
  const keyring = Keyring.parse(generateKeyLine("k1"));
  let server: TestServer;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    server = await startEmbeddedTestServer();
  }, 120_000);
  // Last opened, first closed: a listener closes before its database.
  afterEach(async () => {
    for (const each of opened.splice(0).reverse()) await each.close();
  });
  afterAll(() => server?.close());

  /** Closes `closeable` after the test. */
  const closeAfter = <T extends { close(): Promise<void> }>(closeable: T): T => {
    opened.push(closeable);
    return closeable;
  };
  return {
    keyring,
    /** The URL of a database of its own, empty. */
    databaseUrl: () => server.createDatabase(),
    closeAfter,
    /** A vault on a fresh database with `count` active credentials (subs `seededSub(i)`). */
    async withUsers(count: number, queueEvents: boolean): Promise<Vault> {
      const vault = closeAfter(
        await openVault({ databaseUrl: await server.createDatabase(), keyring, queueEvents }),
      );
      await seedCredentials(vault.database.db, keyring, count);
      return vault;
    },
  };
}

/** From now on, every insert into the outbox fails, as a full disk or a lost connection would. */
export async function breakOutbox(vault: Vault): Promise<void> {
  await sql
    .raw(`
      CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$;
      CREATE TRIGGER refuse_outbox BEFORE INSERT ON webhook_outbox
        FOR EACH ROW EXECUTE FUNCTION refuse_outbox();`)
    .execute(vault.database.db);
}
