import { type Kysely, sql } from "kysely";
import type { VaultSchema } from "./schema.js";

/** A user as a sign-in would leave them: a Google profile and a live grant's tokens. */
export interface SeedUser {
  readonly sub: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly name: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly picture: string;
  readonly locale: string;
  readonly refreshToken: string;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
}

/** Whether any user is stored (a seed refuses to mix with them unless told to append). */
export async function anyUserStored(db: Kysely<VaultSchema>): Promise<boolean> {
  const row = await db.selectFrom("users").select("sub").limit(1).executeTakeFirst();
  return row !== undefined;
}

/** A batch of users, their tokens sealed (`sealSeedUsers` in src/crypto), ready for {@link insertSeedUsers}. */
export interface SealedSeedBatch {
  readonly users: readonly SeedUser[];
  readonly kid: string;
  readonly refresh: readonly Buffer[];
  readonly access: readonly Buffer[];
  readonly grantedScopes: readonly string[];
}

/**
 * Stores users and their active credentials in one statement (so one transaction), inserting
 * from `unnest` of one array per column: PostgreSQL takes it nearly as fast as COPY, and it needs
 * nothing beyond `pg`. One statement, not two, so that the batch runs in PostgreSQL while this
 * process seals the next.
 *
 * @throws the database's unique violation (23505) when a sub is already stored; nothing is kept.
 */
export async function insertSeedUsers(
  db: Kysely<VaultSchema>,
  batch: SealedSeedBatch,
): Promise<void> {
  const { users, kid } = batch;
  const column = <K extends keyof SeedUser>(key: K) => users.map((user) => user[key]);
  await sql`
    WITH profiles AS (
      INSERT INTO users (sub, email, email_verified, name, given_name, family_name, picture, locale)
      SELECT * FROM unnest(${column("sub")}::text[], ${column("email")}::text[],
        ${column("emailVerified")}::boolean[], ${column("name")}::text[],
        ${column("givenName")}::text[], ${column("familyName")}::text[],
        ${column("picture")}::text[], ${column("locale")}::text[])
    )
    INSERT INTO credentials (sub, status, refresh_token, refresh_kid, access_token, access_kid,
      access_token_expires_at, granted_scopes)
    SELECT u.sub, 'active', u.refresh, ${kid}, u.access, ${kid}, u.expires_at,
      ${batch.grantedScopes}::text[]
    FROM unnest(${column("sub")}::text[], ${batch.refresh}::bytea[], ${batch.access}::bytea[],
      ${column("accessTokenExpiresAt")}::timestamptz[]) AS u(sub, refresh, access, expires_at)`.execute(
    db,
  );
}
