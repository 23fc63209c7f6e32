import { type Kysely, sql } from "kysely";
import { sealField } from "./credential-codec.js";
import type { Keyring } from "./keyring.js";
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

/**
 * Stores users and their active credentials in one transaction, both tokens sealed as the vault
 * seals them (credential-codec.ts). Two statements whatever the batch's size: each inserts from
 * `unnest` of one array per column, which PostgreSQL takes nearly as fast as COPY and needs
 * nothing beyond `pg`.
 *
 * @throws the database's unique violation (23505) when a sub is already stored; nothing is kept.
 */
export async function insertSeedUsers(
  db: Kysely<VaultSchema>,
  keyring: Keyring,
  users: readonly SeedUser[],
  grantedScopes: readonly string[],
): Promise<void> {
  const n = users.length;
  const sub = new Array<string>(n);
  const refresh = new Array<Buffer>(n);
  const access = new Array<Buffer>(n);
  const expiresAt = new Array<Date>(n);
  for (let i = 0; i < n; i++) {
    const user = users[i] as SeedUser;
    sub[i] = user.sub;
    refresh[i] = sealField(keyring, user.sub, "refresh_token", user.refreshToken).sealed;
    access[i] = sealField(keyring, user.sub, "access_token", user.accessToken).sealed;
    expiresAt[i] = user.accessTokenExpiresAt;
  }
  const column = <K extends keyof SeedUser>(key: K) => users.map((user) => user[key]);
  const kid = keyring.activeKid;
  await db.transaction().execute(async (transaction) => {
    await sql`
      INSERT INTO users (sub, email, email_verified, name, given_name, family_name, picture, locale)
      SELECT * FROM unnest(${sub}::text[], ${column("email")}::text[],
        ${column("emailVerified")}::boolean[], ${column("name")}::text[],
        ${column("givenName")}::text[], ${column("familyName")}::text[],
        ${column("picture")}::text[], ${column("locale")}::text[])`.execute(transaction);
    await sql`
      INSERT INTO credentials (sub, status, refresh_token, refresh_kid, access_token, access_kid,
        access_token_expires_at, granted_scopes)
      SELECT u.sub, 'active', u.refresh, ${kid}, u.access, ${kid}, u.expires_at, ${grantedScopes}::text[]
      FROM unnest(${sub}::text[], ${refresh}::bytea[], ${access}::bytea[],
        ${expiresAt}::timestamptz[]) AS u(sub, refresh, access, expires_at)`.execute(transaction);
  });
}
