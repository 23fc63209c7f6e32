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
