import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  type EmbeddedPostgres,
  startEmbeddedPostgres,
  stopOrphanedPostmaster,
} from "../../../src/embedded-postgres/index.js";
import { silentLogger } from "../../../src/shared/index.js";

/** A PostgreSQL server the vault tests may create throwaway databases on. */
export interface TestServer {
  readonly name: "embedded" | "external";
  /** The embedded cluster's folder (heap files and WAL), for tests that read the disk. */
  readonly clusterDir?: string;
  /** A new, empty database; returns its URL. Dropped by close(). */
  createDatabase(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts an embedded PostgreSQL in a temporary data dir, through Steward's own start-up code,
 * for one test file. Every suite then takes a fresh database on it.
 */
export async function startEmbeddedTestServer(): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "steward-vault-test-"));
  let embedded: EmbeddedPostgres;
  try {
    embedded = await startEmbeddedPostgres({ dataDir, purpose: "vitest", handleSignals: false });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { host, port, user, password } = embedded.connection();
  const adminUrl = `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/postgres`;
  const server = serverOn("embedded", adminUrl);
  return {
    ...server,
    clusterDir: join(dataDir, "postgres"),
    close: async () => {
      await server.close();
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The external PostgreSQL of `TEST_DATABASE_URL` (CI sets it to Debian's PostgreSQL), or
 * undefined when it is unset. Under `CI=true` an unset variable is an error, so that the
 * external run cannot be skipped silently.
 */
export function externalTestServer(): TestServer | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (url === undefined || url === "") {
    if (process.env.CI === "true") {
      throw new Error(
        "CI=true but TEST_DATABASE_URL is unset: the external-PostgreSQL run would be skipped",
      );
    }
    return undefined;
  }
  return serverOn("external", url);
}

function serverOn(name: TestServer["name"], adminUrl: string): TestServer {
  const created: string[] = [];
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    name,
    createDatabase: async () => {
      const database = `steward_t_${randomBytes(6).toString("hex")}`;
      await admin((client) => client.query(`CREATE DATABASE ${database}`));
      created.push(database);
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      return url.toString();
    },
    close: async () => {
      if (created.length === 0) return;
      await admin(async (client) => {
        for (const database of created.splice(0)) {
          await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        }
      });
    },
  };
}

/**
 * Removes a data dir a test used, first stopping an embedded PostgreSQL a killed fixture may
 * have left running on it.
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  await stopOrphanedPostmaster(join(dataDir, "postgres"), silentLogger, 10_000);
  rmSync(dataDir, { recursive: true, force: true });
}
