import { type Kysely, type Selectable, sql } from "kysely";
import type { AuditEventsTable, CredentialsTable, UsersTable, VaultSchema } from "./schema.js";
import type {
  AuditEvent,
  CredentialInfo,
  SealedCredential,
  User,
  UserProfile,
  UserRecord,
} from "./store.js";

/** Rows of the store's tables mapped to the interface's types (snake_case to camelCase). */

/** Users left-joined with their credential's public columns (never the sealed ones). */
export function selectUserRecords(db: Kysely<VaultSchema>) {
  return db
    .selectFrom("users")
    .leftJoin("credentials", "credentials.sub", "users.sub")
    .selectAll("users")
    .select([
      "credentials.sub as c_sub",
      "credentials.status as c_status",
      "credentials.granted_scopes as c_granted_scopes",
      sql<boolean>`credentials.refresh_token IS NOT NULL`.as("c_has_refresh_token"),
      "credentials.refresh_kid as c_refresh_kid",
      "credentials.access_token_expires_at as c_access_token_expires_at",
      "credentials.revoked_reason as c_revoked_reason",
      "credentials.last_refresh_at as c_last_refresh_at",
      "credentials.last_error as c_last_error",
      "credentials.created_at as c_created_at",
      "credentials.updated_at as c_updated_at",
    ]);
}

export type UserRecordRow = Selectable<UsersTable> & {
  c_sub: string | null;
  c_status: "active" | "revoked" | "expired" | null;
  c_granted_scopes: string[] | null;
  c_has_refresh_token: boolean;
  c_refresh_kid: string | null;
  c_access_token_expires_at: Date | null;
  c_revoked_reason: string | null;
  c_last_refresh_at: Date | null;
  c_last_error: string | null;
  c_created_at: Date | null;
  c_updated_at: Date | null;
};

export function toUserRecord(row: UserRecordRow): UserRecord {
  const credential: CredentialInfo | undefined =
    row.c_sub === null
      ? undefined
      : {
          sub: row.c_sub,
          status: row.c_status ?? "revoked",
          grantedScopes: row.c_granted_scopes ?? [],
          hasRefreshToken: row.c_has_refresh_token,
          kid: row.c_refresh_kid,
          accessTokenExpiresAt: row.c_access_token_expires_at,
          revokedReason: row.c_revoked_reason,
          lastRefreshAt: row.c_last_refresh_at,
          lastError: row.c_last_error,
          createdAt: row.c_created_at as Date,
          updatedAt: row.c_updated_at as Date,
        };
  return { ...toUser(row), credential };
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    sub: row.sub,
    email: row.email,
    emailVerified: row.email_verified,
    name: row.name,
    picture: row.picture,
    locale: row.locale,
    givenName: row.given_name,
    familyName: row.family_name,
    hd: row.hd,
    accountDisabled:
      row.account_disabled_at === null
        ? null
        : { at: row.account_disabled_at, reason: row.account_disabled_reason },
    signIns: row.sign_ins,
    refreshTokenSignIns: row.refresh_token_sign_ins,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    type: row.type,
    sub: row.sub,
    actor: row.actor,
    data: row.data,
  };
}

/** Inserts or updates a user's profile; a field left undefined keeps its stored value. */
/** Upserts the profile; `signIn` counts one sign-in (and whether it brought a refresh token). */
export async function upsertUserRow(
  db: Kysely<VaultSchema>,
  profile: UserProfile,
  signIn?: { readonly refreshToken: boolean },
) {
  const given = {
    email: profile.email,
    email_verified: profile.emailVerified,
    name: profile.name,
    picture: profile.picture,
    locale: profile.locale,
    given_name: profile.givenName,
    family_name: profile.familyName,
    hd: profile.hd,
  };
  const provided = Object.fromEntries(
    Object.entries(given).filter(([, value]) => value !== undefined),
  ) as Partial<typeof given>;
  const counted = signIn && {
    sign_ins: 1,
    refresh_token_sign_ins: signIn.refreshToken ? 1 : 0,
  };
  return db
    .insertInto("users")
    .values({ sub: profile.sub, ...provided, ...counted })
    .onConflict((conflict) =>
      conflict.column("sub").doUpdateSet({
        ...provided,
        ...(counted && {
          sign_ins: sql<number>`users.sign_ins + 1`,
          refresh_token_sign_ins: sql<number>`users.refresh_token_sign_ins + ${counted.refresh_token_sign_ins}`,
        }),
        updated_at: sql<Date>`now()`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export type CredentialRow = Selectable<CredentialsTable>;

/** A row's public part: everything but the tokens. */
export function toCredentialInfo(row: CredentialRow): CredentialInfo {
  return {
    sub: row.sub,
    status: row.status,
    grantedScopes: row.granted_scopes,
    hasRefreshToken: row.refresh_token !== null,
    kid: row.refresh_kid,
    accessTokenExpiresAt: row.access_token_expires_at,
    revokedReason: row.revoked_reason,
    lastRefreshAt: row.last_refresh_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A row as the store hands it out: its tokens as sealed. */
export function toSealedCredential(row: CredentialRow): SealedCredential {
  return {
    ...toCredentialInfo(row),
    refreshToken:
      row.refresh_token === null ? null : { sealed: row.refresh_token, kid: row.refresh_kid },
    accessToken:
      row.access_token === null ? null : { sealed: row.access_token, kid: row.access_kid },
  };
}
