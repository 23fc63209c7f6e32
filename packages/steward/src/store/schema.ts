import type { ColumnType, Generated } from "kysely";

/**
 * The tables as Kysely sees them (see migrations.ts for the DDL). Sealed secrets are `bytea`
 * envelopes (envelope.ts); no text column ever holds a token or a key.
 */
export interface VaultSchema {
  users: UsersTable;
  credentials: CredentialsTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  webhook_outbox: WebhookOutboxTable;
  risc_events: RiscEventsTable;
  activity_hourly: ActivityHourlyTable;
}

type Timestamp = ColumnType<Date, Date | undefined, Date>;

export interface UsersTable {
  sub: string;
  email: string | null;
  email_verified: boolean | null;
  name: string | null;
  picture: string | null;
  locale: string | null;
  given_name: string | null;
  family_name: string | null;
  hd: string | null;
  /** When Google said the account was disabled (RISC account-disabled); null once re-enabled. */
  account_disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  account_disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  sign_ins: Generated<number>;
  /** Sign-ins that brought a new refresh token (Google keeps the newest 100 per client). */
  refresh_token_sign_ins: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface CredentialsTable {
  sub: string;
  status: "active" | "revoked" | "expired";
  refresh_token: Buffer | null;
  refresh_kid: string | null;
  access_token: Buffer | null;
  access_kid: string | null;
  access_token_expires_at: Date | null;
  granted_scopes: string[];
  revoked_reason: string | null;
  last_refresh_at: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** SHA-256 of the key's secret part; the secret itself is shown once and never stored. */
  secret_hash: Buffer;
  /** What the key may do: `tokens:read`, `proxy`, `admin`. */
  scopes: string[];
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface AuditEventsTable {
  id: Generated<string>;
  at: Generated<Date>;
  type: string;
  sub: string | null;
  actor: string | null;
  data: ColumnType<Record<string, unknown>, string, string>;
}

/** Events waiting for (or done with) webhook delivery; see src/events/outbox.ts. */
export interface WebhookOutboxTable {
  id: Generated<string>;
  /** The event's public id (a UUID), stable across retries, for receivers to deduplicate on. */
  event_id: string;
  type: string;
  /** The event bus payload, dates as ISO strings; no event carries a token. */
  payload: ColumnType<Record<string, unknown>, string, never>;
  created_at: Generated<Date>;
  attempts: Generated<number>;
  /** Null once delivered or dead. */
  next_attempt_at: ColumnType<Date | null, Date | undefined, Date | null>;
  locked_until: Date | null;
  delivered_at: Date | null;
  dead_at: Date | null;
  /** Why the last attempt failed, as a reason code (`http_500`, `timeout`); never a body. */
  last_error: string | null;
}

/** Security event tokens received from Google (RISC), by `jti`; never the token itself. */
export interface RiscEventsTable {
  jti: string;
  event_types: string[];
  sub: string | null;
  received_at: Generated<Date>;
}

/** Refreshes stored and refreshes failed, counted per hour (UTC) as they are written. */
export interface ActivityHourlyTable {
  hour: Date;
  kind: "refreshed" | "refresh_failed";
  count: ColumnType<string, number, number>;
}
