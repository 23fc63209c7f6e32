import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Config } from "../config/load.js";
import { attachEmbeddedPostgres, type EmbeddedPostgres } from "../embedded-postgres/index.js";
import type { VaultSchema } from "../store/index.js";
import { type Check, type DoctorDatabase, fail, messageOf, ok, skip } from "./check.js";

/**
 * Connects as the service does: to `DATABASE_URL`, or to the embedded PostgreSQL a running
 * service holds in the data dir (attached to, never started: the doctor changes nothing).
 */
export const databaseCheck: Check = async (context) => {
  const { config } = context;
  if (config === undefined) return skip("database", "needs valid settings");
  let settings: pg.ClientConfig;
  let where: string;
  if (config.databaseUrl === undefined) {
    let embedded: EmbeddedPostgres | undefined;
    try {
      embedded = await attachEmbeddedPostgres(config.dataDir);
    } catch (error) {
      return fail("database", messageOf(error), "wait for the service to finish starting");
    }
    if (embedded === undefined) {
      return fail(
        "database",
        `no running Steward holds ${config.dataDir}, so its embedded PostgreSQL is not running`,
        "start the service (npm start) and run the doctor beside it, or set DATABASE_URL",
      );
    }
    settings = embedded.connection();
    where = ` (embedded, in ${config.dataDir})`;
  } else {
    settings = { connectionString: config.databaseUrl };
    where = "";
  }
  const pool = new pg.Pool({ ...settings, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on("error", () => undefined);
  try {
    const { rows } = await pool.query<{ who: string; version: string }>(
      `SELECT current_user || '@' || coalesce(host(inet_server_addr()), 'localhost') || ':' ||
         coalesce(inet_server_port(), 5432) || '/' || current_database() AS who,
         current_setting('server_version') AS version`,
    );
    const db = new Kysely<VaultSchema>({ dialect: new PostgresDialect({ pool }) });
    context.database = { pool, db, settings } satisfies DoctorDatabase;
    const row = rows[0] as { who: string; version: string };
    return ok("database", `reachable as ${row.who}${where}, PostgreSQL ${row.version}`);
  } catch (error) {
    await pool.end().catch(() => undefined);
    return fail(
      "database",
      `cannot connect to ${target(config)}: ${messageOf(error)}`,
      "check DATABASE_URL (host, port, database, user, password, sslmode) and that PostgreSQL " +
        "accepts connections from this machine (listen_addresses, pg_hba.conf, firewall)",
    );
  }
};

/** Where `DATABASE_URL` points, without its password. */
function target(config: Config): string {
  try {
    const url = new URL(config.databaseUrl as string);
    return `${decodeURIComponent(url.username) || "(no user)"}@${url.host}${url.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}
