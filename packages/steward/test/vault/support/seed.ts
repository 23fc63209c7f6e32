import { type Kysely, sql } from "kysely";
import type { Keyring } from "../../../src/crypto/index.js";
import { sealField } from "../../../src/crypto/index.js";
import type { VaultSchema } from "../../../src/store/index.js";

/** The refresh and access tokens seeded for credential number `i`. */
export const seededTokens = (i: number) => ({
  refreshToken: `1//0seed-refresh-${i}-${"r".repeat(60)}`,
  accessToken: `ya29.seed-access-${i}-${"a".repeat(140)}`,
});

/** The sub of credential number `i`; zero-padded so that sub order is number order. */
export const seededSub = (i: number) => `s${String(i).padStart(7, "0")}`;

/**
 * Writes `count` users with active credentials sealed by `keyring`'s active key, in bulk (the
 * store's one-at-a-time path would make large tests slow). Access tokens expire in an hour
 * unless `accessExpiresInMs` says otherwise.
 */
export async function seedCredentials(
  db: Kysely<VaultSchema>,
  keyring: Keyring,
  count: number,
  options: { from?: number; accessExpiresInMs?: number } = {},
): Promise<void> {
  const from = options.from ?? 0;
  const expiresAt = new Date(Date.now() + (options.accessExpiresInMs ?? 3_600_000));
  for (let start = from; start < from + count; start += 5000) {
    const subs: string[] = [];
    const refresh: Buffer[] = [];
    const access: Buffer[] = [];
    for (let i = start; i < Math.min(from + count, start + 5000); i++) {
      const sub = seededSub(i);
      const tokens = seededTokens(i);
      subs.push(sub);
      refresh.push(sealField(keyring, sub, "refresh_token", tokens.refreshToken).sealed);
      access.push(sealField(keyring, sub, "access_token", tokens.accessToken).sealed);
    }
    await sql`INSERT INTO users (sub) SELECT unnest(${subs}::text[])`.execute(db);
    await sql`
      INSERT INTO credentials (sub, status, refresh_token, refresh_kid, access_token, access_kid,
                               access_token_expires_at, granted_scopes)
      SELECT s, 'active', r, ${keyring.activeKid}, a, ${keyring.activeKid}, ${expiresAt}, '{openid}'
      FROM unnest(${subs}::text[], ${refresh}::bytea[], ${access}::bytea[]) AS v(s, r, a)`.execute(
      db,
    );
  }
}
