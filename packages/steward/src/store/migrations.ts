import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { StewardError } from "../errors.js";
import type { VaultSchema } from "./schema.js";

/**
 * The schema's history, oldest first. Never edit a migration that has shipped; add one.
 * Names sort in order, so kysely's "migrations in order" check keeps the list honest.
 */
const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of INITIAL_SCHEMA) await sql.raw(statement).execute(db);
    },
  },
  // What an API key may do: tokens:read, proxy, admin.
  "0002_api_key_scopes": {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{}'`.execute(db);
    },
  },
  // Signed webhooks, queued here so a restart drops none (src/events/outbox.ts).
  "0003_webhook_outbox": {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of WEBHOOK_OUTBOX) await sql.raw(statement).execute(db);
    },
  },
  // Google's security events (RISC): each one received, for de-duplication, and the flag of an
  // account Google disabled (src/risc).
  "0004_risc": {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of RISC) await sql.raw(statement).execute(db);
    },
  },
  // The admin page: users searched by email or sub prefix, activity charted per hour.
  "0005_admin_activity": {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of ADMIN_ACTIVITY) await sql.raw(statement).execute(db);
    },
  },
  // Sign-ins per user (and those that brought a new refresh token: Google keeps only the newest
  // 100 refresh tokens per account and client, so a user near that count is worth a warning); an index for the idle refresh.
  "0006_sign_in_counts": {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`ALTER TABLE users
        ADD COLUMN sign_ins integer NOT NULL DEFAULT 0,
        ADD COLUMN refresh_token_sign_ins integer NOT NULL DEFAULT 0`.execute(db);
      // The idle refresh (src/tokens/idle-refresh.ts) looks for the longest-unrefreshed grants.
      await sql`CREATE INDEX credentials_idle_since ON credentials
        ((COALESCE(last_refresh_at, created_at))) WHERE status = 'active'`.execute(db);
    },
  },
};

/** Every migration's name, oldest first. */
export const MIGRATION_NAMES: readonly string[] = Object.freeze(Object.keys(MIGRATIONS));

const INITIAL_SCHEMA = [
  `CREATE TABLE users (
    sub            text PRIMARY KEY,
    email          text,
    email_verified boolean,
    name           text,
    picture        text,
    locale         text,
    given_name     text,
    family_name    text,
    hd             text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
  )`,
  // Tokens are sealed envelopes (bytea); the kid columns say which key sealed each, so that
  // rotation and "keys status" need no decryption. A revoked credential keeps no token.
  // Rows are rewritten at every refresh (hourly per active user) and by rotation; with free
  // room on each page and no index but the primary key, those updates stay HOT (in place).
  `CREATE TABLE credentials (
    sub                     text PRIMARY KEY REFERENCES users (sub) ON DELETE CASCADE,
    status                  text NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
    refresh_token           bytea,
    refresh_kid             text,
    access_token            bytea,
    access_kid              text,
    access_token_expires_at timestamptz,
    granted_scopes          text[] NOT NULL DEFAULT '{}',
    revoked_reason          text,
    last_refresh_at         timestamptz,
    last_error              text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK ((refresh_token IS NULL) = (refresh_kid IS NULL)),
    CHECK ((access_token IS NULL) = (access_kid IS NULL)),
    CHECK ((access_token IS NULL) = (access_token_expires_at IS NULL)),
    CHECK (status <> 'active' OR refresh_token IS NOT NULL)
  ) WITH (fillfactor = 80)`,
  `CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
  )`,
  // No foreign key to users: the trail outlives the user it is about.
  `CREATE TABLE audit_events (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at    timestamptz NOT NULL DEFAULT now(),
    type  text NOT NULL,
    sub   text,
    actor text,
    data  jsonb NOT NULL DEFAULT '{}'
  )`,
  "CREATE INDEX audit_events_sub_id ON audit_events (sub, id)",
];

// A pending row has next_attempt_at; a finished one (delivered, or dead after its last attempt)
// has not, so the partial index holds only the work left. locked_until is a claim's lease:
// another instance takes the row over when it lapses. last_error is a reason code, never a body.
const WEBHOOK_OUTBOX = [
  `CREATE TABLE webhook_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    type            text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz DEFAULT now(),
    locked_until    timestamptz,
    delivered_at    timestamptz,
    dead_at         timestamptz,
    last_error      text,
    CHECK (delivered_at IS NULL OR dead_at IS NULL),
    CHECK ((next_attempt_at IS NULL) = (delivered_at IS NOT NULL OR dead_at IS NOT NULL))
  )`,
  `CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id)
    WHERE next_attempt_at IS NOT NULL`,
  `CREATE INDEX webhook_outbox_delivered ON webhook_outbox (delivered_at)
    WHERE delivered_at IS NOT NULL`,
];

// One row per security event token, keyed by its jti, written in the transaction that acts on
// it: a redelivered token finds its row and changes nothing. No token value is kept: not the
// SET, and not the refresh-token prefix or hash a token-revoked event carries. sub is the
// event's subject, or the user whose refresh token matched (null when none did).
const RISC = [
  `CREATE TABLE risc_events (
    jti         text PRIMARY KEY,
    event_types text[] NOT NULL,
    sub         text,
    received_at timestamptz NOT NULL DEFAULT now()
  )`,
  "CREATE INDEX risc_events_sub ON risc_events (sub) WHERE sub IS NOT NULL",
  // Set by account-disabled (the reason as Google gives it, e.g. hijacking), cleared by
  // account-enabled.
  "ALTER TABLE users ADD COLUMN account_disabled_at timestamptz",
  "ALTER TABLE users ADD COLUMN account_disabled_reason text",
];

// Prefix searches (LIKE 'ada%') use these whatever the database's collation. Refreshes are
// counted per hour by the statement that stores them (credential-batch.ts): one row per hour and
// kind, where an audit row per refresh would write one row per active user and hour.
const ADMIN_ACTIVITY = [
  "CREATE INDEX users_email_prefix ON users (lower(email) text_pattern_ops)",
  "CREATE INDEX users_sub_prefix ON users (sub text_pattern_ops)",
  "CREATE INDEX audit_events_type_at ON audit_events (type, at)",
  `CREATE TABLE activity_hourly (
    hour  timestamptz NOT NULL,
    kind  text NOT NULL CHECK (kind IN ('refreshed', 'refresh_failed')),
    count bigint NOT NULL,
    PRIMARY KEY (hour, kind)
  )`,
];

const provider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

/**
 * Brings the schema up to date. Idempotent, and safe when several instances start at once:
 * kysely's migrator holds a PostgreSQL advisory lock while it migrates, in one transaction, so
 * the others wait and then find nothing left to do.
 *
 * @returns the names of the migrations this call applied.
 * @throws StewardError `database_unavailable` when a migration fails (the detail names it).
 * @example
 *   await migrate(db); // ["0001_initial"] on a fresh database, [] afterwards
 */
export async function migrate(db: Kysely<VaultSchema>): Promise<string[]> {
  const { error, results = [] } = await migratorOf(db).migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === "Error");
    throw new StewardError("database_unavailable", {
      message: "The database schema could not be migrated.",
      detail: failed ? `migration ${failed.migrationName} failed` : "the migrator failed",
      cause: error,
    });
  }
  return results.map((result) => result.migrationName);
}

/**
 * Checks, changing nothing, that the database holds this version's schema: for commands beside
 * a service (the CLI, `steward worker`), which must not create Steward's tables in whatever
 * database they are pointed at, nor upgrade a schema under running instances.
 *
 * @throws StewardError `database_unavailable` when the schema is missing or older.
 */
export async function requireCurrentSchema(db: Kysely<VaultSchema>): Promise<void> {
  const pending = (await migratorOf(db).getMigrations()).filter((m) => m.executedAt === undefined);
  if (pending.length === 0) return;
  throw new StewardError("database_unavailable", {
    message:
      "This database holds no Steward schema, or an older one: run the service on it first " +
      "(steward start or serve), which creates or upgrades it.",
    detail: `migrations not applied: ${pending.map((m) => m.name).join(", ")}`,
  });
}

function migratorOf(db: Kysely<VaultSchema>): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: "steward_migration",
    migrationLockTableName: "steward_migration_lock",
  });
}
