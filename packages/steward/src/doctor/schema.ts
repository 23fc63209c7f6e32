import { sql } from "kysely";
import { MIGRATION_NAMES, requireCurrentSchema } from "../store/index.js";
import { type Check, fail, messageOf, ok, skip } from "./check.js";

/**
 * The schema is this version's: every migration applied, none unknown to it (a newer Steward
 * migrated the database). Asked, never applied: migrating is the service's start-up's job.
 */
export const schemaCheck: Check = async (context) => {
  const { database } = context;
  if (database === undefined) return skip("schema", "needs the database");
  try {
    await requireCurrentSchema(database.db);
  } catch (error) {
    const detail = (error as { detail?: unknown }).detail;
    return fail(
      "schema",
      `${messageOf(error).split(":")[0]}${typeof detail === "string" ? ` (${detail})` : ""}`,
      "start the service on this database (steward start or serve), which creates or " +
        "upgrades the schema; the doctor never migrates",
    );
  }
  const { rows } = await sql<{ name: string }>`
    SELECT name FROM steward_migration WHERE name <> ALL(${[...MIGRATION_NAMES]}) ORDER BY name`.execute(
    database.db,
  );
  if (rows.length > 0) {
    return fail(
      "schema",
      `the database was migrated by a newer Steward (${rows.map((row) => row.name).join(", ")})`,
      "run the Steward version that migrated it; a schema is never downgraded",
    );
  }
  context.schemaCurrent = true;
  const last = MIGRATION_NAMES[MIGRATION_NAMES.length - 1];
  return ok("schema", `current (${MIGRATION_NAMES.length} migrations, the last ${last})`);
};
