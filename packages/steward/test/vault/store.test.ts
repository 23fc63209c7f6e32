import { afterAll, beforeAll, describe } from "vitest";
import { openVault, type Vault } from "../../src/vault/index.js";
import {
  externalTestServer,
  startEmbeddedTestServer,
  type TestServer,
} from "./support/databases.js";
import { describeStoreContract, type StoreHarness } from "./support/store-contract.js";

/** PostgresStore instances (each a vault with its own pool) over one fresh database. */
function postgresHarness(server: () => TestServer): () => Promise<StoreHarness> {
  return async () => {
    const databaseUrl = await server().createDatabase();
    const vaults: Vault[] = [];
    return {
      open: async (keyring, options = {}) => {
        const vault = await openVault({
          databaseUrl,
          keyring,
          lockTimeoutMs: options.lockTimeoutMs,
        });
        vaults.push(vault);
        return vault.store;
      },
      close: async () => {
        await Promise.all(vaults.map((vault) => vault.close()));
      },
    };
  };
}

let embedded: TestServer;
beforeAll(async () => {
  embedded = await startEmbeddedTestServer();
});
afterAll(async () => {
  await embedded?.close();
  await external?.close();
});

// The embedded PostgreSQL always runs: a newcomer's machine has no other.
describeStoreContract(
  "embedded PostgreSQL",
  postgresHarness(() => embedded),
);

// CI sets TEST_DATABASE_URL to Debian's PostgreSQL; externalTestServer() throws under CI=true
// when it is missing, so this run is never skipped silently there.
const external = externalTestServer();
describe.skipIf(external === undefined)("with TEST_DATABASE_URL", () => {
  describeStoreContract(
    "external PostgreSQL (TEST_DATABASE_URL)",
    postgresHarness(() => external as TestServer),
  );
});
