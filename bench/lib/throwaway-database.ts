// A PostgreSQL database a soak or scale run may fill and then drop: a new database on the
// server of TEST_DATABASE_URL when set (its user needs CREATEDB), else an embedded PostgreSQL
// in a temporary folder, started by Steward's own start-up code. It holds Steward's schema.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../packages/steward/src/embedded-postgres/index.js";
import { silentLogger } from "../../packages/steward/src/shared/index.js";
import { migrate, openDatabase } from "../../packages/steward/src/store/index.js";

export interface ThrowawayDatabase {
  readonly url: string;
  /** e.g. "PostgreSQL 15.18 at TEST_DATABASE_URL", for the report. */
  readonly description: string;
  /** Drops the database (or stops the embedded server and removes its folder). */
  close(): Promise<void>;
}

export async function throwawayDatabase(purpose: string): Promise<ThrowawayDatabase> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return onServer(external, "TEST_DATABASE_URL");
  const dataDir = await mkdtemp(join(tmpdir(), `steward-${purpose}-`));
  const embedded = await startEmbeddedPostgres({
    dataDir,
    purpose,
    handleSignals: false,
    logger: silentLogger,
  });
  const { host, port, user, password } = embedded.connection();
  const adminUrl = `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/postgres`;
  const database = await onServer(adminUrl, "an embedded server");
  return {
    ...database,
    close: async () => {
      await database.close();
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function onServer(adminUrl: string, where: string): Promise<ThrowawayDatabase> {
  const name = `steward_bench_${randomBytes(5).toString("hex")}`;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const version = await admin(async (client) => {
    await client.query(`CREATE DATABASE ${name}`);
    const result = await client.query<{ server_version: string }>("SHOW server_version");
    return result.rows[0]?.server_version ?? "?";
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // Steward's schema, so that `steward seed` may fill it before any service has run.
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
  try {
    await migrate(database.db);
  } finally {
    await database.close();
  }
  return {
    url: url.toString(),
    description: `PostgreSQL ${version.split(" ")[0]} (${where})`,
    close: async () => {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
