import { type Check, fail, ok, skip } from "./check.js";

/** Steward's tables, and kysely's two that record the migrations. */
const TABLES = [
  "users",
  "credentials",
  "api_keys",
  "audit_events",
  "webhook_outbox",
  "risc_events",
  "steward_migration",
  "steward_migration_lock",
];
const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"];

/**
 * What the service's role may do, asked of the catalog (has_*_privilege), trying nothing: use
 * and create in its schema (start-up creates and upgrades the schema there), and read and write
 * every Steward table that exists.
 */
export const privilegesCheck: Check = async ({ database }) => {
  if (database === undefined) return skip("privileges", "needs the database");
  const schema = await database.pool.query<{
    schema: string | null;
    usage: boolean;
    create: boolean;
  }>(
    `SELECT current_schema() AS schema,
       coalesce(has_schema_privilege(current_schema(), 'USAGE'), false) AS usage,
       coalesce(has_schema_privilege(current_schema(), 'CREATE'), false) AS create`,
  );
  const {
    schema: name,
    usage,
    create,
  } = schema.rows[0] as {
    schema: string | null;
    usage: boolean;
    create: boolean;
  };
  if (name === null) {
    return fail(
      "privileges",
      "no schema on the search_path exists",
      "set the role's search_path to a schema it may use (ALTER ROLE ... SET search_path = public)",
    );
  }
  const missing = await database.pool.query<{ name: string; privilege: string }>(
    `SELECT t.name, p.privilege
       FROM unnest($1::text[]) AS t(name), unnest($2::text[]) AS p(privilege)
      WHERE to_regclass(quote_ident(t.name)) IS NOT NULL
        AND NOT has_table_privilege(to_regclass(quote_ident(t.name)), p.privilege)
      ORDER BY t.name, p.privilege`,
    [TABLES, TABLE_PRIVILEGES],
  );
  const lacking = [
    ...(usage ? [] : [`USAGE on schema ${name}`]),
    ...(create ? [] : [`CREATE on schema ${name}`]),
    ...groupByTable(missing.rows),
  ];
  if (lacking.length > 0) {
    return fail(
      "privileges",
      `the role lacks ${lacking.join(", ")}`,
      `run Steward as the role that owns schema ${name} and its tables (it creates and ` +
        `upgrades them at start-up), or GRANT USAGE, CREATE ON SCHEMA ${name} and SELECT, ` +
        "INSERT, UPDATE, DELETE on the tables listed",
    );
  }
  return ok(
    "privileges",
    `USAGE and CREATE on schema ${name}; SELECT, INSERT, UPDATE, DELETE on Steward's tables`,
  );
};

function groupByTable(rows: readonly { name: string; privilege: string }[]): string[] {
  const byTable = new Map<string, string[]>();
  for (const { name, privilege } of rows)
    byTable.set(name, [...(byTable.get(name) ?? []), privilege]);
  return [...byTable].map(([table, privileges]) => `${privileges.join(", ")} on ${table}`);
}
